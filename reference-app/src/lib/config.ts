import { z } from 'zod';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const url = (protocols: string[]) =>
  z
    .string()
    .trim()
    .refine((value) => protocols.some((p) => value.startsWith(`${p}://`)), {
      message: `must be a ${protocols.join('/')}:// URL`,
    });

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const envSchema = z.object({
  PORT: int(0, 65535).default(3000),
  DATABASE_URL: url(['postgres', 'postgresql']),
  REDIS_URL: url(['redis', 'rediss']),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters'),
  SMTP_URL: url(['smtp', 'smtps']),
  MAIL_FROM: z
    .string()
    .trim()
    .min(3, 'must be a sender address such as "Sandbox <no-reply@sandbox.test>"'),
  PUBLIC_URL: url(['http', 'https']).transform((value) => value.replace(/\/+$/, '')),
  JOB_BACKOFF_MS: int(1, 3_600_000).default(1000),
  VERIFY_TOKEN_TTL_SECONDS: int(1, 30 * 86_400).default(86_400),
  WS_HEARTBEAT_MS: int(50, 3_600_000).default(30_000),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  BCRYPT_COST: int(10, 15).default(12),
  CACHE_TTL_SECONDS: int(1, 86_400).default(300),
  SHUTDOWN_TIMEOUT_MS: int(100, 60_000).default(4000),
});

export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  readonly port: number;
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly jwtSecret: string;
  readonly smtpUrl: string;
  readonly mailFrom: string;
  readonly publicUrl: string;
  readonly jobBackoffMs: number;
  readonly verifyTokenTtlSeconds: number;
  readonly wsHeartbeatMs: number;
  readonly logLevel: LogLevel;
  readonly bcryptCost: number;
  readonly cacheTtlSeconds: number;
  readonly shutdownTimeoutMs: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Validates the environment once; the result is frozen so nobody mutates it later. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  // An empty variable means "not set", so defaults apply and required ones are reported missing.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = issue.path.join('.');
      return issue.code === 'invalid_type' && present[name] === undefined
        ? `${name} is missing`
        : `${name} ${issue.message}`;
    });
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  return Object.freeze({
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    jwtSecret: e.JWT_SECRET,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    publicUrl: e.PUBLIC_URL,
    jobBackoffMs: e.JOB_BACKOFF_MS,
    verifyTokenTtlSeconds: e.VERIFY_TOKEN_TTL_SECONDS,
    wsHeartbeatMs: e.WS_HEARTBEAT_MS,
    logLevel: e.LOG_LEVEL,
    bcryptCost: e.BCRYPT_COST,
    cacheTtlSeconds: e.CACHE_TTL_SECONDS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
  });
}
