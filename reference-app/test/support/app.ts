import type { Config } from '../../src/lib/config';
import { loadConfig } from '../../src/lib/config';
import { createLogger } from '../../src/lib/logger';
import { start, type RunningApp } from '../../src/start';
import { createTestDatabase, type TestDatabase } from './database';
import { testRedisUrl } from './redis';

export const TEST_JWT_SECRET = 'test-secret-that-is-at-least-32-characters-long';

/** The environment a test app starts with: the machine's services, a fast bcrypt, quiet logs. */
export function testEnv(overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PORT: '0',
    DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
    REDIS_URL: testRedisUrl(),
    JWT_SECRET: TEST_JWT_SECRET,
    SMTP_URL: 'smtp://127.0.0.1:2525',
    MAIL_FROM: 'Sandbox <no-reply@sandbox.test>',
    PUBLIC_URL: 'http://localhost:3000',
    JOB_BACKOFF_MS: '100',
    WS_HEARTBEAT_MS: '500',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    BCRYPT_COST: '10',
    ...overrides,
  };
}

export interface TestApp {
  url: string;
  app: RunningApp;
  database: TestDatabase;
  config: Config;
  /** Stops the app gracefully and drops its database. */
  stop(): Promise<void>;
}

/** A running app on a free port with a database of its own (cloned from the migrated template). */
export async function startTestApp(env: NodeJS.ProcessEnv = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  const config = loadConfig(testEnv({ DATABASE_URL: database.url, ...env }));
  let app: RunningApp;
  try {
    app = await start(config, { logger: createLogger(config.logLevel) });
  } catch (err) {
    await database.drop();
    throw err;
  }
  return {
    url: app.url,
    app,
    database,
    config,
    stop: async () => {
      await app.stop();
      await database.drop();
    },
  };
}
