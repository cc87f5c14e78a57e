import knex, { type Knex } from 'knex';
import { migrationSource } from './migrations';

export type Db = Knex;

/** A knex pool on the cohort database; connects lazily (nothing at import or creation time). */
export function createDb(databaseUrl: string, poolMax = 10): Db {
  return knex({
    client: 'pg',
    connection: { connectionString: databaseUrl, connectionTimeoutMillis: 2000 },
    pool: { min: 0, max: poolMax },
    acquireConnectionTimeout: 3000,
    migrations: { migrationSource, tableName: 'cohort_knex_migrations' },
    // Knex's own warnings (lost connections) would go to console.log; the service reports them as 503s.
    log: { warn: () => undefined, error: () => undefined, deprecate: () => undefined },
  });
}

/** Applies pending migrations; several processes may start together: the loser of knex's lock waits. */
export async function migrateLatest(db: Db, attempts = 100): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await db.migrate.latest();
      return;
    } catch (err) {
      if (!(err instanceof Error && err.name === 'MigrationLocked') || attempt >= attempts)
        throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
