import { randomBytes } from 'node:crypto';
import { startMailSink, type StartedMailSink } from '../../../checker/src/services/mail-sink';
import { loadConfig, type Config } from '../../src/lib/config';
import { createLogger } from '../../src/lib/logger';
import { start, type RunningApp } from '../../src/start';
import { testEnv } from './app';
import { createTestDatabase } from './database';

/** Everything an app of the jobs, realtime and hardening suites talks to: a database and a mail sink of its own. */
export interface TestWorld {
  databaseUrl: string;
  mail: StartedMailSink;
  /** The app's environment, for an app in this process (config) or in a child process (spawnApp). */
  env: Record<string, string>;
  config: Config;
  close(): Promise<void>;
}

/** A database cloned from the migrated template, a mail sink, and the environment of an app using them. */
export async function createWorld(overrides: Record<string, string> = {}): Promise<TestWorld> {
  const database = await createTestDatabase();
  const mail = await startMailSink().catch(async (e: unknown) => {
    await database.drop();
    throw e;
  });
  const env = definedOnly(
    testEnv({
      DATABASE_URL: database.url,
      SMTP_URL: mail.url,
      JWT_SECRET: randomBytes(32).toString('hex'),
      JOB_BACKOFF_MS: '50',
      WS_HEARTBEAT_MS: '30000',
      ...overrides,
    }),
  );
  return {
    databaseUrl: database.url,
    mail,
    env,
    config: loadConfig(env),
    async close() {
      await mail.close();
      await database.drop();
    },
  };
}

export function startInProcess(world: TestWorld): Promise<RunningApp> {
  return start(world.config, { logger: createLogger('silent') });
}

function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined),
  );
}
