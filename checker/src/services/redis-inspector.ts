import Redis from 'ioredis';
import type { RedisInspector } from '../harness/api';

/** Commands that cannot change data; anything else is refused before it reaches Redis. */
const READ_ONLY = new Set([
  'get',
  'mget',
  'strlen',
  'getrange',
  'exists',
  'type',
  'ttl',
  'pttl',
  'expiretime',
  'pexpiretime',
  'keys',
  'scan',
  'dbsize',
  'hget',
  'hgetall',
  'hmget',
  'hkeys',
  'hvals',
  'hlen',
  'hexists',
  'hscan',
  'lrange',
  'llen',
  'lindex',
  'smembers',
  'scard',
  'sismember',
  'sscan',
  'zrange',
  'zrangebyscore',
  'zrevrange',
  'zcard',
  'zscore',
  'zscan',
  'zcount',
  'zrank',
  'xlen',
  'xrange',
  'xrevrange',
  'xinfo',
  'object',
  'memory',
  'ping',
  'info',
  'pubsub',
  'time',
]);

export interface ClosableRedisInspector extends RedisInspector {
  close(): Promise<void>;
}

/** Read-only access to the run's Redis, connected directly (not through the fault proxy). */
export function createRedisInspector(url: string): ClosableRedisInspector {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
  });
  client.on('error', () => undefined);
  return {
    call: async (command, ...args) => {
      const name = command.toLowerCase();
      if (!READ_ONLY.has(name))
        throw new Error(`the Redis inspector only runs read-only commands; ${command} is not one`);
      if (client.status === 'wait') await client.connect();
      return client.call(name, ...args);
    },
    close: async () => {
      if (client.status === 'wait' || client.status === 'end') return client.disconnect();
      await client.quit().catch(() => client.disconnect());
    },
  };
}
