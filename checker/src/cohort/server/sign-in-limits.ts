import type { Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, rateLimit, type Options } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import { RedisStore } from 'rate-limit-redis';

/** Failed sign-ins allowed per window, per address and email, and per address. */
export const LOGIN_LIMITS = { windowMs: 15 * 60 * 1000, perEmail: 5, perAddress: 30 };

/**
 * Counters in Redis, so every `sandbox serve` process behind one address counts the same
 * attempts. A script load that failed (Redis away at start or restarted) is tried again on the
 * next use instead of failing every later count.
 */
class SharedCounters extends RedisStore {
  override init(options: Parameters<RedisStore['init']>[0]): Promise<void> {
    this.windowMs = options.windowMs;
    this.incrementScriptSha = this.loadIncrementScript();
    this.getScriptSha = this.loadGetScript();
    this.incrementScriptSha.catch(() => undefined);
    this.getScriptSha.catch(() => undefined);
    return Promise.resolve();
  }

  private async scriptsLoaded(): Promise<void> {
    await this.incrementScriptSha.catch(
      () => (this.incrementScriptSha = this.loadIncrementScript()),
    );
    await this.getScriptSha.catch(() => (this.getScriptSha = this.loadGetScript()));
  }

  override async increment(key: string) {
    await this.scriptsLoaded();
    return super.increment(key);
  }

  override async get(key: string) {
    await this.scriptsLoaded();
    return super.get(key);
  }
}

/** Where rate-limit counters live: a Redis client (commands fail fast while it is away) and a key prefix. */
export interface SharedCountersConfig {
  redis: Redis;
  prefix: string;
}

export const emailOf = (req: Request): string => {
  const email: unknown = (req.body as Record<string, unknown> | undefined)?.['email'];
  return typeof email === 'string' ? email.trim().toLowerCase().slice(0, 320) : '';
};

/**
 * The two sign-in limits (per address, and per address and email), counting failed attempts
 * only, for one sign-in door (`name`: the dashboard's form, the API's session route). With
 * `counters` they are shared by every service process; while Redis is away, sign-ins are
 * let through uncounted rather than refused (the service keeps answering).
 */
export function signInLimits(
  name: string,
  counters: SharedCountersConfig | undefined,
  refuse: (req: Request, res: Response, retryAfterSeconds: number) => void,
): RequestHandler[] {
  const limiter = (scope: string, limit: number, key: (req: Request) => string) =>
    rateLimit({
      windowMs: LOGIN_LIMITS.windowMs,
      limit,
      skipSuccessfulRequests: true, // only failed sign-ins count
      standardHeaders: 'draft-7',
      legacyHeaders: false,
      keyGenerator: key,
      passOnStoreError: true,
      ...(counters
        ? {
            store: new SharedCounters({
              prefix: `${counters.prefix}sign-in:${name}:${scope}:`,
              sendCommand: (command: string, ...args: string[]) =>
                counters.redis.call(command, ...args) as Promise<never>,
            }),
          }
        : {}),
      handler: (req: Request, res: Response, _next: unknown, options: Options) => {
        const resetTime = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit
          ?.resetTime;
        const seconds = Math.max(
          1,
          Math.ceil(((resetTime?.getTime() ?? Date.now() + options.windowMs) - Date.now()) / 1000),
        );
        res.set('Retry-After', String(seconds));
        refuse(req, res, seconds);
      },
    });
  return [
    limiter('address', LOGIN_LIMITS.perAddress, (req) => ipKeyGenerator(req.ip ?? '')),
    limiter(
      'email',
      LOGIN_LIMITS.perEmail,
      (req) => `${ipKeyGenerator(req.ip ?? '')}|${emailOf(req)}`,
    ),
  ];
}
