import type { Redis } from '../lib/redis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

export const LOGIN_ATTEMPTS = 5;
export const LOGIN_WINDOW_SECONDS = 60;

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface LoginRateLimiter {
  /** Counts one login attempt for this email and client IP. */
  consume(email: string, ip: string): Promise<RateDecision>;
}

/**
 * At most 5 login attempts per email and IP per 60 s, counted in Redis so every instance shares
 * the budget. Each instance also counts every attempt it sees in memory, and decides by that count
 * when Redis does not answer (away, or slower than the client's timeout): never fail open, and
 * never a budget of 5 in Redis plus 5 more in memory when only some answers time out.
 */
export function createLoginRateLimiter(redis: Redis, keyPrefix = 'rl:login'): LoginRateLimiter {
  const limits = { points: LOGIN_ATTEMPTS, duration: LOGIN_WINDOW_SECONDS, keyPrefix };
  const shared = new RateLimiterRedis({
    ...limits,
    storeClient: redis,
    rejectIfRedisNotReady: true,
  });
  const local = new RateLimiterMemory(limits);
  return {
    async consume(email, ip) {
      const key = `${email.trim().toLowerCase()}|${ip}`;
      const [inRedis, inMemory] = await Promise.allSettled([
        shared.consume(key),
        local.consume(key),
      ]);
      const redisDecided =
        inRedis.status === 'fulfilled' || inRedis.reason instanceof RateLimiterRes;
      const decision = redisDecided ? inRedis : inMemory;
      if (decision.status === 'fulfilled') return { allowed: true };
      const rejection: unknown = decision.reason;
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      return {
        allowed: false,
        retryAfterSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)),
      };
    },
  };
}
