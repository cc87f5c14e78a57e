import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { orphaned, ownerTag } from '../sandbox/owner';
import { cacheDir } from './cache-dir';
import {
  cloneTemplate,
  connect,
  createRoleSql,
  dropRun,
  openRunDatabase,
  type RunDatabase,
} from './run-database';

/**
 * Run databases made ahead on the warm cluster (warm-postgres.ts): each a role with a random
 * password owning its own clone of the empty template, closed to PUBLIC, never connected to. Its
 * name and password sit in a file of the checker's cache (mode 0600), and who holds it is the
 * file's name (sandbox/owner.ts):
 * - `making-PID-START-ID.json`: being made by that checker;
 * - `spare-ID.json`: ready; a run takes it by renaming the file (atomic: one taker wins), so a
 *   run's setup makes no connection to Postgres at all;
 * - `run-PID-START-ID.json`: that checker's run; dropped with its role when the run ends.
 * sweepSpareDatabases() drops those whose maker or run died; `services down` ends them all.
 */
interface SpareFile {
  readonly name: string;
  readonly password: string;
}

const DATABASE_NAME = /^sandbox_db_[0-9a-f]{12}$/;

/** Where the warm cluster's spare and taken databases are recorded (removed by `services down`). */
export function spareDatabasesDir(): string {
  return cacheDir('services', 'databases');
}

async function readSpare(file: string): Promise<SpareFile | undefined> {
  const made = await readFile(file, 'utf8')
    .then((s) => JSON.parse(s) as SpareFile)
    .catch(() => undefined);
  return made && DATABASE_NAME.test(made.name) && typeof made.password === 'string'
    ? made
    : undefined;
}

/** Takes a spare as this run's database; undefined when none is left. */
export async function claimSpareDatabase(adminUrl: string): Promise<RunDatabase | undefined> {
  const dir = spareDatabasesDir();
  const spares = (await readdir(dir).catch(() => [] as string[])).filter((n) =>
    n.startsWith('spare-'),
  );
  for (const spare of spares.sort(() => Math.random() - 0.5)) {
    const own = path.join(dir, `run-${ownerTag()}-${spare.slice('spare-'.length)}`);
    try {
      await rename(path.join(dir, spare), own);
    } catch {
      continue; // another run took it
    }
    const made = await readSpare(own);
    if (!made) {
      await rm(own, { force: true });
      continue;
    }
    return openRunDatabase(adminUrl, made.name, made.password, async () => {
      const admin = await connect({ connectionString: adminUrl });
      try {
        await dropRun(admin, made.name);
        await rm(own, { force: true });
      } finally {
        await admin.end().catch(() => undefined);
      }
    });
  }
  return undefined;
}

/** Makes spares until `count` are ready; one refill at a time per server (an advisory lock). */
export async function refillSpareDatabases(adminUrl: string, count: number): Promise<void> {
  const dir = spareDatabasesDir();
  const admin = await connect({ connectionString: adminUrl });
  try {
    // Released when the connection ends: each refill counts what the last one made.
    await admin.query(`SELECT pg_advisory_lock(hashtext('backend-sandbox spares'))`);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const ready = (await readdir(dir)).filter((n) => n.startsWith('spare-')).length;
    for (let have = ready; have < count; have++) {
      const id = randomBytes(6).toString('hex');
      const made: SpareFile = {
        name: `sandbox_db_${id}`,
        password: randomBytes(18).toString('base64url'),
      };
      // Recorded before it exists: a maker that dies midway leaves a file the sweep reads.
      const making = path.join(dir, `making-${ownerTag()}-${id}.json`);
      await writeFile(making, JSON.stringify(made), { mode: 0o600, flag: 'wx' });
      try {
        await admin.query(createRoleSql(made.name, made.password));
        // FILE_COPY: the warm cluster runs with fsync off, where its checkpoints are cheap.
        await cloneTemplate(admin, made.name, made.name, 'FILE_COPY');
        await rename(making, path.join(dir, `spare-${id}.json`));
      } catch (e) {
        await dropRun(admin, made.name).catch(() => undefined);
        await rm(making, { force: true });
        throw e;
      }
    }
  } finally {
    await admin.end().catch(() => undefined);
  }
}

/** Drops the databases (and roles) of makers and runs that died; returns their names. */
export async function sweepSpareDatabases(adminUrl: string): Promise<string[]> {
  const dir = spareDatabasesDir();
  const dead = (await readdir(dir).catch(() => [] as string[])).filter(
    (n) => /^(run|making)-/.test(n) && orphaned(n.slice(n.indexOf('-') + 1)),
  );
  if (dead.length === 0) return [];
  const swept: string[] = [];
  const admin = await connect({ connectionString: adminUrl });
  try {
    for (const file of dead) {
      const made = await readSpare(path.join(dir, file));
      if (made) {
        await dropRun(admin, made.name);
        swept.push(made.name);
      }
      await rm(path.join(dir, file), { force: true });
    }
  } finally {
    await admin.end().catch(() => undefined);
  }
  return swept;
}
