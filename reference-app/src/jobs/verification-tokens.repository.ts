import type { Db } from '../lib/db';

export const VERIFICATION_TOKENS = 'email_verification_tokens';

export interface VerificationTokensRepository {
  insert(row: { tokenHash: string; userId: string; expiresAt: Date }): Promise<void>;
  /** Spends a live token and every other token of its user, marks the user verified; the user's id, or null. */
  consume(tokenHash: string): Promise<string | null>;
}

export function createVerificationTokensRepository(db: Db): VerificationTokensRepository {
  return {
    async insert(row) {
      await db(VERIFICATION_TOKENS).insert({
        token_hash: row.tokenHash,
        user_id: row.userId,
        expires_at: row.expiresAt,
      });
    },
    consume(tokenHash) {
      return db.transaction(async (trx) => {
        const spent = await trx(VERIFICATION_TOKENS)
          .where({ token_hash: tokenHash })
          .whereNull('used_at')
          .where('expires_at', '>', trx.fn.now())
          .update({ used_at: trx.fn.now() })
          .returning<{ user_id: string }[]>('user_id');
        const userId = spent[0]?.user_id;
        if (userId === undefined) return null;
        await trx(VERIFICATION_TOKENS)
          .where({ user_id: userId })
          .whereNull('used_at')
          .update({ used_at: trx.fn.now() });
        await trx('users').where({ id: userId }).update({ email_verified: true });
        return userId;
      });
    },
  };
}
