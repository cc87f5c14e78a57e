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
 * the budget. While Redis is away, each instance keeps counting in memory instead of failing open.
 */
export function createLoginRateLimiter(redis: Redis, keyPrefix = 'rl:login'): LoginRateLimiter {
  const limits = { points: LOGIN_ATTEMPTS, duration: LOGIN_WINDOW_SECONDS, keyPrefix };
  const limiter = new RateLimiterRedis({
    ...limits,
    storeClient: redis,
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory(limits),
  });
  return {
    async consume(email, ip) {
      try {
        await limiter.consume(`${email.trim().toLowerCase()}|${ip}`);
        return { allowed: true };
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) throw rejection;
        return {
          allowed: false,
          retryAfterSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)),
        };
      }
    },
  };
}
