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

export async function connect(config: ClientConfig): Promise<Client> {
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

/**
 * Connections one run's role may hold at once: the app instances a grading runs side by side (the
 * primary, a second one, a fan-out, one to SIGTERM, and more, each through its own fault proxy),
 * 8 of them, each with knex's default pool of at most 10. Past it the app gets Postgres's own
 * "too many connections for role" (53300) in its log, and the cluster keeps room for other runs.
 */
export const RUN_CONNECTION_LIMIT = 80;

/**
 * max_connections of a cluster the checker runs for `runs` runs at once: each run's role at its
 * limit, plus the checker's own per run (the inspector, the admin that makes and drops the
 * database) and per cluster (spares, health probes, superuser_reserved_connections' 3).
 */
export function clusterMaxConnections(runs: number): number {
  return Math.max(1, runs) * (RUN_CONNECTION_LIMIT + 2) + 10;
}

/**
 * On a cluster of the checker's own, the databases no run owns closed to PUBLIC (a run's database
 * and the runs' template are closed when made; template0 takes no connection).
 */
export const CLOSE_CLUSTER_SQL =
  'REVOKE CONNECT, TEMPORARY ON DATABASE postgres, template1 FROM PUBLIC';

/** The run role's CREATE ROLE: no superuser, cannot create databases or roles, RUN_CONNECTION_LIMIT. */
export function createRoleSql(name: string, password: string): string {
  return `CREATE ROLE ${ident(name)} LOGIN PASSWORD '${password}' NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION CONNECTION LIMIT ${RUN_CONNECTION_LIMIT}`;
}

/** Clones the template as `name` (owned by `owner`, else the admin) with no privilege for PUBLIC. */
export async function cloneTemplate(
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
  // The template too (idempotent: a template made by an older checker was open): a run's role that
  // connects to it could plant large objects every later clone inherits, or hold a connection that
  // makes every later clone fail ("source database is being accessed by other users").
  await admin.query(`REVOKE ALL ON DATABASE ${ident(name)} FROM PUBLIC`);
  await closeTemplate(admin);
}

/**
 * No privilege for PUBLIC on the template either (a template made by an older checker was open):
 * a run's role that connected to it could plant large objects every later clone inherits, or hold
 * a connection that makes every later clone fail ("source database is being accessed by other
 * users"). Only when still open, and a concurrent revoker's "tuple concurrently updated" is fine.
 */
async function closeTemplate(admin: Client): Promise<void> {
  const { rows } = await admin.query<{ open: boolean }>(
    `SELECT datacl IS NULL OR array_to_string(datacl, ',') ~ '(^|,)=' AS open FROM pg_database WHERE datname = $1`,
    [TEMPLATE],
  );
  if (!rows[0]?.open) return;
  await admin
    .query(`REVOKE ALL ON DATABASE ${ident(TEMPLATE)} FROM PUBLIC`)
    .catch((e: { code?: string }) => {
      if (e.code !== 'XX000') throw e;
    });
}

/**
 * One run's database: a role with a random password (no superuser, cannot create databases
 * or roles) owning a database cloned from an empty template. Dropped with its role at the end.
 * (On the warm cluster a run takes one made ahead instead: spare-databases.ts.)
 */
export async function createRunDatabase(
  adminUrl: string,
  opts: { fileCopy?: boolean } = {},
): Promise<RunDatabase> {
  // FILE_COPY checkpoints: cheap on a private cluster with fsync off, costly on a shared one, where WAL_LOG is better.
  const strategy = opts.fileCopy ? 'FILE_COPY' : 'WAL_LOG';
  const admin = await connect({ connectionString: adminUrl });
  const name = runName();
  const password = randomBytes(18).toString('base64url');
  try {
    await admin.query(createRoleSql(name, password));
    await cloneTemplate(admin, name, name, strategy);
  } catch (e) {
    await dropRun(admin, name).catch(() => undefined);
    await admin.end().catch(() => undefined);
    throw e;
  }
  return openRunDatabase(adminUrl, name, password, async () => {
    try {
      await dropRun(admin, name);
    } finally {
      await admin.end().catch(() => undefined);
    }
  });
}

/**
 * The run's view of its database `name` (role of the same name): the app's URL, a read-only
 * inspector, and drop(), which closes the inspector, then runs `dropDatabase`. The inspector is
 * first used by a check, after the app has started: its connection (a backend start) is made
 * meanwhile, off the setup's path; a failure surfaces on the first query.
 */
export function openRunDatabase(
  adminUrl: string,
  name: string,
  password: string,
  dropDatabase: () => Promise<void>,
): RunDatabase {
  const inspectorClient = connect({
    connectionString: withDatabase(adminUrl, name),
    options: '-c default_transaction_read_only=on -c statement_timeout=5000',
  });
  inspectorClient.catch(() => undefined); // awaited by the first query and by drop()
  let queue: Promise<unknown> = Promise.resolve();
  const inspector: DbInspector = {
    query: <T>(sql: string, params: unknown[] = []): Promise<T[]> => {
      // One connection, one transaction at a time; every query in its own read-only transaction.
      const job = queue.then(async () => {
        const client = await inspectorClient;
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
  let dropped: Promise<void> | undefined;
  return {
    name,
    role: name,
    password,
    appUrl: (host, port) => `postgres://${name}:${password}@${host}:${port}/${name}`,
    inspector,
    drop: () =>
      (dropped ??= (async () => {
        await inspectorClient.then((c) => c.end()).catch(() => undefined);
        await dropDatabase();
      })()),
  };
}

export async function dropRun(admin: Client, name: string): Promise<void> {
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
