import { createHash, randomBytes } from 'node:crypto';

/** Learner tokens start with sbl_, mentor API tokens with sbm_: a leaked one says what it opens. */
export type TokenKind = 'learner' | 'mentor';
const PREFIX: Record<TokenKind, string> = { learner: 'sbl_', mentor: 'sbm_' };

/** A new secret token (256 random bits); only its hash is stored. */
export function newToken(kind: TokenKind): string {
  return `${PREFIX[kind]}${randomBytes(32).toString('base64url')}`;
}

/** Tokens are random, so a fast hash is enough (no dictionary to guess from); lookups go by hash. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function tokenKind(token: string): TokenKind | undefined {
  if (token.startsWith(PREFIX.learner)) return 'learner';
  if (token.startsWith(PREFIX.mentor)) return 'mentor';
  return undefined;
}

/** An invite code a person can type: 10 characters without look-alikes (0/O, 1/I/L). */
export function newInviteCode(): string {
  const alphabet = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
  const bytes = randomBytes(10);
  let code = '';
  for (const b of bytes) code += alphabet[b % alphabet.length];
  return `${code.slice(0, 5)}-${code.slice(5)}`;
}
