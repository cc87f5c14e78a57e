import { randomUUID } from 'node:crypto';
import { REFRESH_TOKEN_TTL_MS, hashRefreshToken, newRefreshToken } from './refresh-token';
import type { RefreshTokensRepository } from './refresh-tokens.repository';

export type RotationResult =
  | { ok: true; userId: string; familyId: string }
  /** reused: a spent token came back, so its whole family was revoked. */
  | { ok: false; reused: boolean };

export interface RefreshTokensService {
  /** A new token; a new family (a new login) unless familyId is given (a rotation). */
  issue(opts: { userId: string; accessJti: string; familyId?: string }): Promise<string>;
  /** Spends the token; a spent or revoked one revokes its family. */
  rotate(token: string): Promise<RotationResult>;
  /** Logout: the refresh tokens of the login behind this access token stop working. */
  revokeForAccessToken(accessJti: string): Promise<void>;
}

export function createRefreshTokensService(repo: RefreshTokensRepository): RefreshTokensService {
  return {
    async issue({ userId, accessJti, familyId = randomUUID() }) {
      const { token, tokenHash } = newRefreshToken();
      await repo.insert({
        tokenHash,
        userId,
        familyId,
        accessJti,
        expiresAt: new Date(Date.now() + REFRESH_TOKEN_TTL_MS),
      });
      return token;
    },
    async rotate(token) {
      const tokenHash = hashRefreshToken(token);
      const spent = await repo.spend(tokenHash);
      if (spent) return { ok: true, userId: spent.user_id, familyId: spent.family_id };
      const familyId = await repo.familyOf(tokenHash);
      if (familyId === null) return { ok: false, reused: false };
      await repo.revokeFamily(familyId);
      return { ok: false, reused: true };
    },
    revokeForAccessToken: (accessJti) => repo.revokeFamilyOfAccessToken(accessJti),
  };
}
