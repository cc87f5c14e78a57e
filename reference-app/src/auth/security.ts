import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import type { Redis } from '../lib/redis';
import {
  createAccessTokenRevocations,
  type AccessTokenRevocations,
} from './access-token-revocations';
import { createLoginRateLimiter, type LoginRateLimiter } from './rate-limit';
import { createRefreshTokensRepository } from './refresh-tokens.repository';
import { createRefreshTokensService, type RefreshTokensService } from './refresh-tokens.service';

/** Step 9's stateful pieces, built once by start() and shared by the routes and the WebSocket upgrade. */
export interface Security {
  loginLimiter: LoginRateLimiter;
  refreshTokens: RefreshTokensService;
  revocations: AccessTokenRevocations;
}

export function createSecurity(deps: { db: Db; redis: Redis; logger: Logger }): Security {
  return {
    loginLimiter: createLoginRateLimiter(deps.redis),
    refreshTokens: createRefreshTokensService(createRefreshTokensRepository(deps.db)),
    revocations: createAccessTokenRevocations(deps),
  };
}
