import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { createDb, migrateLatest } from '../../src/lib/db';

/** The machine's Postgres, as a superuser (trust auth); override with TEST_DATABASE_ADMIN_URL. */
export const ADMIN_URL =
  process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const MIGRATIONS_DIR = join(__dirname, '../../src/db/migrations');

export function databaseUrl(name: string, base = ADMIN_URL): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

/** The template's name changes whenever a migration file changes, so a stale template is never used. */
function templateName(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(MIGRATIONS_DIR).sort()) {
    hash.update(file).update(readFileSync(join(MIGRATIONS_DIR, file)));
  }
  return `refapp_tpl_${hash.digest('hex').slice(0, 12)}`;
}

async function withAdmin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * Creates the migrated template database once per migration set; concurrent jest workers
 * wait on an advisory lock, and the template appears under its name only once complete.
 */
async function ensureTemplate(): Promise<string> {
  const name = templateName();
  await withAdmin(async (admin) => {
    await admin.query('select pg_advisory_lock(hashtext($1))', [name]);
    try {
      const exists = await admin.query('select 1 from pg_database where datname = $1', [name]);
      if (exists.rowCount) return;
      const building = `${name}_build`;
      await admin.query(`drop database if exists ${quote(building)} with (force)`);
      await admin.query(`create database ${quote(building)}`);
      const db = createDb(databaseUrl(building));
      try {
        await migrateLatest(db);
      } finally {
        await db.destroy();
      }
      await admin.query(`alter database ${quote(building)} rename to ${quote(name)}`);
      // Templates of older migration sets are of no use any more (one still being cloned stays).
      const { rows } = await admin.query<{ datname: string }>(
        "select datname from pg_database where starts_with(datname, 'refapp_tpl_') and datname not like '%\\_build' and datname <> $1",
        [name],
      );
      for (const { datname } of rows)
        await admin.query(`drop database if exists ${quote(datname)}`).catch(() => undefined);
    } finally {
      await admin.query('select pg_advisory_unlock(hashtext($1))', [name]);
    }
  });
  return name;
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

const TEST_DB_PREFIX = 'refapp_t_';
const STALE_AFTER_SECONDS = 2 * 60 * 60;

/** Test databases carry their creation time; ones left by a crashed run are dropped after two hours. */
async function dropStaleTestDatabases(admin: Client): Promise<void> {
  const { rows } = await admin.query<{ datname: string }>(
    'select datname from pg_database where starts_with(datname, $1)',
    [TEST_DB_PREFIX],
  );
  const now = Math.floor(Date.now() / 1000);
  for (const { datname } of rows) {
    const created = Number(datname.slice(TEST_DB_PREFIX.length).split('_')[0]);
    if (Number.isFinite(created) && now - created > STALE_AFTER_SECONDS) {
      await admin
        .query(`drop database if exists ${quote(datname)} with (force)`)
        .catch(() => undefined);
    }
  }
}

/** A fresh, migrated database of its own, cloned from the template (tens of milliseconds). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const template = await ensureTemplate();
  const name = `${TEST_DB_PREFIX}${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}`;
  await withAdmin(async (admin) => {
    await dropStaleTestDatabases(admin);
    await admin.query(`create database ${quote(name)} template ${quote(template)}`);
  });
  return {
    name,
    url: databaseUrl(name),
    drop: () =>
      withAdmin((admin) => admin.query(`drop database if exists ${quote(name)} with (force)`)).then(
        () => undefined,
      ),
  };
}
