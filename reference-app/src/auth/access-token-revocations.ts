import type { Redis } from '../lib/redis';
import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';

export const REVOKED_ACCESS_TOKENS = 'revoked_access_tokens';
const SYNC_RETRY_MS = 1000;
const redisKey = (jti: string): string => `auth:revoked:${jti}`;

export interface AccessTokenRevocations {
  /** Refuses this access token from now until it expires anyway. */
  revoke(jti: string, expiresAt: Date): Promise<void>;
  isRevoked(jti: string): Promise<boolean>;
  close(): void;
}

/**
 * Postgres is the truth; Redis is a copy that makes the per-request check cheap. The copy is
 * trusted only while Redis is connected and has been re-filled from Postgres since it last
 * (re)connected, so a logout made while Redis was away is never forgotten.
 */
export function createAccessTokenRevocations(deps: {
  db: Db;
  redis: Redis;
  logger: Logger;
}): AccessTokenRevocations {
  const { db, redis, logger } = deps;
  let trusted = false;
  let syncing: Promise<void> | undefined;
  let lastSyncAt = 0;

  const refill = async (): Promise<void> => {
    const rows = await db(REVOKED_ACCESS_TOKENS)
      .select<{ jti: string; expires_at: Date }[]>('jti', 'expires_at')
      .where('expires_at', '>', db.fn.now());
    const pipeline = redis.pipeline();
    for (const row of rows) pipeline.set(redisKey(row.jti), '1', 'PXAT', row.expires_at.getTime());
    await pipeline.exec();
  };
  const sync = (): void => {
    trusted = false;
    lastSyncAt = Date.now();
    syncing ??= refill()
      .then(() => {
        trusted = redis.status === 'ready';
      })
      .catch((err: unknown) =>
        logger.warn({ err }, 'revocation cache refill failed; checking Postgres'),
      )
      .finally(() => {
        syncing = undefined;
      });
  };
  const distrust = (): void => {
    trusted = false;
  };
  redis.on('ready', sync);
  redis.on('close', distrust);
  if (redis.status === 'ready') sync();

  const isRevokedInPostgres = async (jti: string): Promise<boolean> => {
    const row = await db(REVOKED_ACCESS_TOKENS).select('jti').where({ jti }).first();
    return row !== undefined;
  };

  return {
    async revoke(jti, expiresAt) {
      await db(REVOKED_ACCESS_TOKENS)
        .insert({ jti, expires_at: expiresAt })
        .onConflict('jti')
        .ignore();
      await db(REVOKED_ACCESS_TOKENS).where('expires_at', '<', db.fn.now()).delete();
      try {
        await redis.set(redisKey(jti), '1', 'PXAT', expiresAt.getTime());
      } catch (err) {
        // Until a refill copies it from Postgres, the check asks Postgres.
        sync();
        logger.warn({ err }, 'could not copy a revocation to Redis');
      }
    },
    async isRevoked(jti) {
      if (!trusted) {
        // A failed refill (e.g. before migrations ran) is retried, at most once a second.
        if (!syncing && redis.status === 'ready' && Date.now() - lastSyncAt > SYNC_RETRY_MS) sync();
        return isRevokedInPostgres(jti);
      }
      try {
        return (await redis.exists(redisKey(jti))) === 1;
      } catch {
        return isRevokedInPostgres(jti);
      }
    },
    close() {
      redis.off('ready', sync);
      redis.off('close', distrust);
    },
  };
}
