import type { Services } from '../services/local-services';

/** The variables of steps/CONTRACT.md, for an app on `port`. */
export function appEnv(
  services: Services,
  port: number,
  jwtSecret: string,
): Record<string, string> {
  return {
    PORT: String(port),
    DATABASE_URL: services.appDatabaseUrl,
    REDIS_URL: services.appRedisUrl,
    JWT_SECRET: jwtSecret,
    SMTP_URL: services.mail.url,
    MAIL_FROM: 'Sandbox <no-reply@sandbox.test>',
    PUBLIC_URL: `http://localhost:${port}`,
    JOB_BACKOFF_MS: '100',
    BCRYPT_COST: '10', // optional in the contract; the lowest cost the step 3 check accepts keeps grading fast
    WS_HEARTBEAT_MS: '500',
    NODE_ENV: 'production',
  };
}
