import type { RequestHandler } from 'express';
import { AppError } from '../lib/errors';
import type { LoginRateLimiter } from './rate-limit';

/** Goes before passport-local: counts the attempt, answers 429 RATE_LIMITED with Retry-After past the budget. */
export function loginRateLimit(limiter: LoginRateLimiter): RequestHandler {
  return async (req, res, next) => {
    const body: unknown = req.body;
    const email =
      typeof body === 'object' && body !== null && 'email' in body && typeof body.email === 'string'
        ? body.email
        : '';
    const decision = await limiter.consume(email, req.ip ?? req.socket.remoteAddress ?? 'unknown');
    if (decision.allowed) return next();
    res.setHeader('Retry-After', String(decision.retryAfterSeconds));
    throw new AppError(
      429,
      'RATE_LIMITED',
      `Too many login attempts; try again in ${decision.retryAfterSeconds} s`,
    );
  };
}
