import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './logger';

export type { Redis };

/**
 * `cache`: fails fast (no offline queue, short command timeout) so a dead Redis degrades to Postgres;
 *   commands issued in the same tick share one write (a request's revocation check and cache read).
 * `queue`: what BullMQ requires (commands wait for the connection instead of failing).
 */
export type RedisRole = 'cache' | 'queue' | 'subscriber';

const ROLE_OPTIONS: Record<RedisRole, RedisOptions> = {
  cache: {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 200,
    enableAutoPipelining: true,
  },
  queue: { maxRetriesPerRequest: null },
  subscriber: { maxRetriesPerRequest: null },
};

export function createRedis(url: string, role: RedisRole, logger: Logger): Redis {
  const redis = new Redis(url, {
    ...ROLE_OPTIONS[role],
    connectionName: `reference-app:${role}`,
    // Reconnect quickly so the cache is used again soon after Redis comes back.
    retryStrategy: (times) => Math.min(times * 50, 500),
  });
  let lastError = '';
  redis.on('error', (err: Error) => {
    // A dead Redis emits the same error on every reconnect attempt: log each new one once.
    if (err.message !== lastError) logger.warn({ role, err: err.message }, 'redis error');
    lastError = err.message;
  });
  redis.on('ready', () => {
    if (lastError) logger.info({ role }, 'redis connection back');
    lastError = '';
  });
  return redis;
}

/** Waits until the client is ready, at most `timeoutMs`; returns whether it is. */
export function waitForRedis(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const onReady = () => finish(true);
    const timer = setTimeout(() => finish(false), timeoutMs);
    function finish(ready: boolean) {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ready);
    }
    redis.once('ready', onReady);
  });
}

/** Closes gracefully when connected, otherwise drops the reconnect loop. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'ready') {
    await redis.quit().catch(() => redis.disconnect());
  } else {
    redis.disconnect();
  }
}
