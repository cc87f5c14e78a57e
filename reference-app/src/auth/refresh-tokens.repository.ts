import type { Db } from '../lib/db';

export const REFRESH_TOKENS = 'refresh_tokens';

export interface RefreshTokenRow {
  user_id: string;
  family_id: string;
}

export interface RefreshTokensRepository {
  insert(row: {
    tokenHash: string;
    userId: string;
    familyId: string;
    accessJti: string;
    expiresAt: Date;
  }): Promise<void>;
  /** Spends a live token atomically; its owner and family, or null when it is unknown, spent, revoked or expired. */
  spend(tokenHash: string): Promise<RefreshTokenRow | null>;
  /** The family of a token whatever its state (to punish reuse). */
  familyOf(tokenHash: string): Promise<string | null>;
  revokeFamily(familyId: string): Promise<void>;
  /** Revokes the family of the login that issued this access token. */
  revokeFamilyOfAccessToken(accessJti: string): Promise<void>;
}

export function createRefreshTokensRepository(db: Db): RefreshTokensRepository {
  return {
    async insert(row) {
      await db(REFRESH_TOKENS).insert({
        token_hash: row.tokenHash,
        user_id: row.userId,
        family_id: row.familyId,
        access_jti: row.accessJti,
        expires_at: row.expiresAt,
      });
    },
    async spend(tokenHash) {
      const rows = await db(REFRESH_TOKENS)
        .where({ token_hash: tokenHash })
        .whereNull('used_at')
        .whereNull('revoked_at')
        .where('expires_at', '>', db.fn.now())
        .update({ used_at: db.fn.now() })
        .returning<RefreshTokenRow[]>(['user_id', 'family_id']);
      return rows[0] ?? null;
    },
    async familyOf(tokenHash) {
      const row = await db(REFRESH_TOKENS)
        .select<{ family_id: string }[]>('family_id')
        .where({ token_hash: tokenHash });
      return row[0]?.family_id ?? null;
    },
    async revokeFamily(familyId) {
      await db(REFRESH_TOKENS)
        .where({ family_id: familyId })
        .whereNull('revoked_at')
        .update({ revoked_at: db.fn.now() });
    },
    async revokeFamilyOfAccessToken(accessJti) {
      const families = db(REFRESH_TOKENS).select('family_id').where({ access_jti: accessJti });
      await db(REFRESH_TOKENS)
        .whereIn('family_id', families)
        .whereNull('revoked_at')
        .update({ revoked_at: db.fn.now() });
    },
  };
}
