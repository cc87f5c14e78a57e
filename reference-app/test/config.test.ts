import { loadConfig } from '../src/lib/config';
import { testEnv } from './support/app';

describe('loadConfig', () => {
  it('applies the documented defaults and freezes the result', () => {
    const env = testEnv();
    delete env.JOB_BACKOFF_MS;
    delete env.WS_HEARTBEAT_MS;
    delete env.BCRYPT_COST;
    delete env.VERIFY_TOKEN_TTL_SECONDS;
    const config = loadConfig(env);
    expect(config).toMatchObject({
      jobBackoffMs: 1000,
      verifyTokenTtlSeconds: 86_400,
      wsHeartbeatMs: 30_000,
      bcryptCost: 12,
      port: 0,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('names a secret that is too short', () => {
    expect(() => loadConfig(testEnv({ JWT_SECRET: 'short' }))).toThrow(
      /JWT_SECRET must be at least 32 characters/,
    );
  });

  it('names every missing variable, treating empty ones as missing', () => {
    const env = testEnv({ REDIS_URL: '' });
    delete env.DATABASE_URL;
    expect(() => loadConfig(env)).toThrow(/DATABASE_URL is missing.*REDIS_URL is missing/);
  });

  it('refuses a URL of the wrong kind and a bcrypt cost below 10', () => {
    expect(() => loadConfig(testEnv({ DATABASE_URL: 'mysql://x' }))).toThrow(
      /DATABASE_URL must be a postgres/,
    );
    expect(() => loadConfig(testEnv({ BCRYPT_COST: '8' }))).toThrow(/BCRYPT_COST/);
  });
});
