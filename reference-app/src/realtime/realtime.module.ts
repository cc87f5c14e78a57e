import jwt from 'jsonwebtoken';
import type { AccessTokenRevocations } from '../auth/access-token-revocations';
import { ACCESS_TOKEN_ALGORITHM, type AccessTokens } from '../auth/access-tokens';
import type { Config } from '../lib/config';
import type { Logger } from '../lib/logger';
import { closeRedis, createRedis, type Redis } from '../lib/redis';
import { redisNamespace } from '../lib/redis-namespace';
import { startRealtime, type Realtime } from './realtime.server';

/** The user id of a valid, unexpired, unrevoked access token, or null. */
export function tokenAuthenticator(
  accessTokens: AccessTokens,
  revocations: AccessTokenRevocations,
) {
  return async (token: string): Promise<string | null> => {
    if (!token) return null;
    try {
      const claims = jwt.verify(token, accessTokens.key, { algorithms: [ACCESS_TOKEN_ALGORITHM] });
      if (typeof claims === 'string' || !claims.sub || !claims.jti) return null;
      return (await revocations.isRevoked(claims.jti)) ? null : claims.sub;
    } catch {
      return null;
    }
  };
}

/** Step 8: WebSockets with fan-out through Redis pub/sub on a channel per database. */
export async function startRealtimeFeature(deps: {
  config: Config;
  logger: Logger;
  /** The cache client, used for PUBLISH (fails fast while Redis is away). */
  redis: Redis;
  authenticate(token: string): Promise<string | null>;
}): Promise<Realtime> {
  const subscriber = createRedis(deps.config.redisUrl, 'subscriber', deps.logger);
  try {
    const realtime = await startRealtime({
      authenticate: deps.authenticate,
      heartbeatMs: deps.config.wsHeartbeatMs,
      publisher: deps.redis,
      subscriber,
      channel: `note-events:${redisNamespace(deps.config.databaseUrl)}`,
      logger: deps.logger,
    });
    return realtime;
  } catch (err) {
    await closeRedis(subscriber);
    throw err;
  }
}
