import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import type { EmailQueue } from './email.queue';
import { hashToken, newVerificationToken } from './verification-token';
import type { VerificationTokensRepository } from './verification-tokens.repository';

export interface VerificationService {
  /** Stores a new token (hashed) and enqueues its email; signup and resend call it. */
  sendVerification(user: { id: string; email: string }): Promise<void>;
  /** Spends the token and marks its user verified; the user's id, or null for an unknown, expired or used token. */
  verify(token: string): Promise<string | null>;
  /** Sends a new email only to an existing, unverified user; silent otherwise (no enumeration). */
  resend(email: string): Promise<void>;
}

export function createVerificationService(deps: {
  db: Db;
  tokens: VerificationTokensRepository;
  queue: EmailQueue;
  logger: Logger;
  /** How long a token stays valid (VERIFY_TOKEN_TTL_SECONDS). */
  tokenTtlSeconds: number;
}): VerificationService {
  const sendVerification: VerificationService['sendVerification'] = async (user) => {
    const { token, tokenHash } = newVerificationToken();
    await deps.tokens.insert({
      tokenHash,
      userId: user.id,
      expiresAt: new Date(Date.now() + deps.tokenTtlSeconds * 1000),
    });
    await deps.queue.enqueueVerification({ email: user.email, token }, tokenHash);
  };
  return {
    sendVerification,
    verify: (token) => deps.tokens.consume(hashToken(token)),
    async resend(email) {
      const user = await deps
        .db('users')
        .select<{ id: string; email: string }[]>('id', 'email')
        .whereRaw('lower(email) = ?', [email.trim().toLowerCase()])
        .where({ email_verified: false })
        .first();
      if (!user) return;
      await sendVerification(user);
      deps.logger.info({ userId: user.id }, 'verification email re-sent');
    },
  };
}
