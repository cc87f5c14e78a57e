import { createHash, randomBytes } from 'node:crypto';

/** 32 random bytes, URL-safe; only its sha256 is stored. */
export function newVerificationToken(): { token: string; tokenHash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, tokenHash: hashToken(token) };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
