import { randomBytes } from 'node:crypto';
import { Client, type ClientConfig } from 'pg';
import type { DbInspector } from '../harness/api';
import { orphaned, ownerTag, selfOwner } from '../sandbox/owner';

const TEMPLATE = 'sandbox_template';

export interface RunDatabase {
  readonly name: string;
  readonly role: string;
  readonly password: string;
  /** Host and port the app should use (usually the fault proxy's). */
  appUrl(host: string, port: number): string;
  readonly inspector: DbInspector;
  drop(): Promise<void>;
}

const ident = (s: string): string => `"${s.replace(/"/g, '""')}"`;

function withDatabase(adminUrl: string, database: string): string {
  const u = new URL(adminUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

async function connect(config: ClientConfig): Promise<Client> {
  const c = new Client(config);
  c.on('error', () => undefined); // a dropped connection surfaces on the next query
  await c.connect();
  return c;
}

/** Creates the empty template once per server; racing creators are fine. */
async function ensureTemplate(admin: Client): Promise<void> {
  const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [
    TEMPLATE,
  ]);
  if (rowCount) return;
  await admin
    .query(`CREATE DATABASE ${ident(TEMPLATE)} TEMPLATE template0 ENCODING 'UTF8' IS_TEMPLATE true`)
    .catch((e: { code?: string }) => {
      if (e.code !== '42P04' && e.code !== '23505') throw e;
    });
}

/** A fresh name that also says which checker process owns it (for sweeping orphans). */
function runName(): string {
  return `sandbox_run_${ownerTag(selfOwner(), '_')}_${randomBytes(4).toString('hex')}`;
}

const SPARE_PATTERN = `sandbox\\_spare\\_%`;

/** Clones the template as `name` (owned by `owner`, else the admin) with no privilege for PUBLIC. */
async function cloneTemplate(
  admin: Client,
  name: string,
  owner: string | undefined,
  strategy: string,
): Promise<void> {
  const create = (): Promise<unknown> =>
    admin.query(
      `CREATE DATABASE ${ident(name)} TEMPLATE ${ident(TEMPLATE)}${owner ? ` OWNER ${ident(owner)}` : ''} STRATEGY ${strategy}`,
    );
  await create().catch(async (e: { code?: string }) => {
    if (e.code !== '3D000') throw e; // no template yet on this server
    await ensureTemplate(admin);
    await create();
  });
  await admin.query(`REVOKE ALL ON DATABASE ${ident(name)} FROM PUBLIC`);
}

/**
 * Takes a spare (an untouched clone of the template, see refillSpares) by renaming it to `name`;
 * false when none is left. A rename fails when the spare is gone (another run took it) or in use.
 */
async function claimSpare(admin: Client, name: string): Promise<boolean> {
  const { rows } = await admin.query<{ datname: string }>(
    `SELECT datname FROM pg_database WHERE datname LIKE '${SPARE_PATTERN}' ORDER BY random()`,
  );
  for (const { datname } of rows) {
    try {
      await admin.query(`ALTER DATABASE ${ident(datname)} RENAME TO ${ident(name)}`);
      return true;
    } catch (e) {
      if (!['3D000', '55006'].includes((e as { code?: string }).code ?? '')) throw e;
    }
  }
  return false;
}

/**
 * Keeps `count` spares on a server of ours (the warm cluster): the clone, the slow part of a run's
 * database, done ahead of the run that uses it. A spare is made under an owned run name (swept
 * like a run database if its maker dies), closed to PUBLIC, and only then renamed to
 * `sandbox_spare_*`: the rename fails if anyone connected meanwhile, and that clone is dropped.
 */
export async function refillSpares(
  adminUrl: string,
  count: number,
  strategy = 'FILE_COPY',
): Promise<void> {
  const admin = await connect({ connectionString: adminUrl });
  try {
    // One refill at a time per server (released when the connection ends): each counts what the last made.
    await admin.query(`SELECT pg_advisory_lock(hashtext('backend-sandbox spares'))`);
    const { rows } = await admin.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE '${SPARE_PATTERN}'`,
    );
    for (let have = rows[0]?.n ?? 0; have < count; have++) {
      const making = runName();
      try {
        await cloneTemplate(admin, making, undefined, strategy);
        await admin.query(
          `ALTER DATABASE ${ident(making)} RENAME TO ${ident(`sandbox_spare_${randomBytes(6).toString('hex')}`)}`,
        );
      } catch (e) {
        await dropRun(admin, making).catch(() => undefined);
        throw e;
      }
    }
  } finally {
    await admin.end().catch(() => undefined);
  }
}

/**
 * One run's database: a role with a random password (no superuser, cannot create databases
 * or roles) owning a database cloned from an empty template. Dropped with its role at the end.
 * With `spares`, the database is a spare taken ready (when one is left) and the spares are refilled
 * in the background; drop() waits for that refill.
 */
export async function createRunDatabase(
  adminUrl: string,
  opts: { fileCopy?: boolean; spares?: number } = {},
): Promise<RunDatabase> {
  // FILE_COPY checkpoints: cheap on a private cluster with fsync off, costly on a shared one, where WAL_LOG is better.
  const strategy = opts.fileCopy ? 'FILE_COPY' : 'WAL_LOG';
  const admin = await connect({ connectionString: adminUrl });
  const name = runName();
  const password = randomBytes(18).toString('base64url');
  const role = `CREATE ROLE ${ident(name)} LOGIN PASSWORD '${password}' NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION CONNECTION LIMIT 50`;
  let inspectorClient: Promise<Client> | undefined;
  const connectInspector = (): Promise<Client> =>
    connect({
      connectionString: withDatabase(adminUrl, name),
      options: '-c default_transaction_read_only=on -c statement_timeout=5000',
    });
  try {
    if (opts.spares && (await claimSpare(admin, name))) {
      // The inspector's connection starts while the role is made (a backend start is the costly part).
      inspectorClient = connectInspector();
      inspectorClient.catch(() => undefined); // awaited below; a failure meanwhile is not unhandled
      await admin.query(role);
      // The spare is closed to PUBLIC already; the new owner takes the admin's place in its ACL.
      await admin.query(`ALTER DATABASE ${ident(name)} OWNER TO ${ident(name)}`);
    } else {
      await admin.query(role);
      await cloneTemplate(admin, name, name, strategy);
      inspectorClient = connectInspector();
    }
    await inspectorClient;
  } catch (e) {
    await inspectorClient?.then((c) => c.end()).catch(() => undefined);
    await dropRun(admin, name).catch(() => undefined);
    await admin.end().catch(() => undefined);
    throw e;
  }
  const client = await inspectorClient;
  // After the run's own statements, so the next clone's checkpoint never delays them.
  const refilled = opts.spares
    ? refillSpares(adminUrl, opts.spares, strategy).catch(() => undefined)
    : Promise.resolve();
  let queue: Promise<unknown> = Promise.resolve();
  const inspector: DbInspector = {
    query: <T>(sql: string, params: unknown[] = []): Promise<T[]> => {
      // One connection, one transaction at a time; every query in its own read-only transaction.
      const job = queue.then(async () => {
        await client.query('BEGIN READ ONLY');
        try {
          const res = await client.query(sql, params);
          return res.rows as T[];
        } finally {
          await client.query('ROLLBACK').catch(() => undefined);
        }
      });
      queue = job.catch(() => undefined);
      return job;
    },
  };
  let dropped = false;
  return {
    name,
    role: name,
    password,
    appUrl: (host, port) => `postgres://${name}:${password}@${host}:${port}/${name}`,
    inspector,
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await client.end().catch(() => undefined);
      try {
        await dropRun(admin, name);
      } finally {
        await admin.end().catch(() => undefined);
        await refilled;
      }
    },
  };
}

async function dropRun(admin: Client, name: string): Promise<void> {
  await admin.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`);
  await admin.query(`DROP ROLE IF EXISTS ${ident(name)}`);
}

/** Drops run databases and roles whose owning checker process (pid and start time in the name) is gone. */
export async function sweepOrphanDatabases(adminUrl: string): Promise<string[]> {
  const admin = await connect({ connectionString: adminUrl });
  try {
    const { rows } = await admin.query<{ name: string }>(
      `SELECT datname AS name FROM pg_database WHERE datname LIKE 'sandbox\\_run\\_%'
       UNION SELECT rolname FROM pg_roles WHERE rolname LIKE 'sandbox\\_run\\_%'`,
    );
    const swept: string[] = [];
    for (const { name } of rows) {
      if (!orphaned(name.slice('sandbox_run_'.length))) continue;
      await dropRun(admin, name).catch(() => undefined);
      swept.push(name);
    }
    return swept;
  } finally {
    await admin.end();
  }
}
