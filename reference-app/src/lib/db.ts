import knex, { type Knex } from 'knex';
import { migrationSource } from '../db/migrations';
import type { Logger } from './logger';

export type Db = Knex;

/** Knex's own messages (lost connections, failed acquires) go to our logger, not console.log. */
const knexLog = (logger?: Logger): Knex.Config['log'] => {
  const to = (level: 'warn' | 'error' | 'debug') => (message: unknown) =>
    logger?.[level]({ knex: String(message) }, 'knex');
  return { warn: to('warn'), error: to('error'), deprecate: to('warn'), debug: to('debug') };
};

export function createDb(databaseUrl: string, logger?: Logger): Db {
  return knex({
    log: knexLog(logger),
    client: 'pg',
    connection: { connectionString: databaseUrl, connectionTimeoutMillis: 2000 },
    pool: { min: 0, max: 10 },
    acquireConnectionTimeout: 3000,
    migrations: { migrationSource, tableName: 'knex_migrations' },
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Applies pending migrations. Several instances may start together: the one that loses
 * knex's migration lock waits for the winner instead of failing.
 */
export async function migrateLatest(db: Db, attempts = 100): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await db.migrate.latest();
      return;
    } catch (err) {
      if (!(err instanceof Error && err.name === 'MigrationLocked') || attempt >= attempts)
        throw err;
      await sleep(100);
    }
  }
}

/** Resolves true when the database answers within `timeoutMs`, false otherwise; never rejects. */
export async function pingDb(db: Db, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const query = db.raw('select 1').then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([query, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
