import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cacheDir } from './cache-dir';
import { layoutCluster, pidAlive, sweepOrphanRuns } from './local-postgres';
import { refillSpareRedis } from './redis-spares';
import { refillSpareDatabases, spareDatabasesDir } from './spare-databases';
import { ownerAlive, processStart } from '../sandbox/owner';

/**
 * A warm private Postgres that outlives one run (`sandbox services up`), so re-checks skip the
 * cluster start. Runs stay isolated: each still gets its own role and a database cloned from the
 * empty template (FILE_COPY: the cluster runs with fsync off), dropped at the end; both are made
 * ahead, as one of WARM_SPARES spares that the next run takes (spare-databases.ts). The cluster
 * also keeps spare redis-servers (redis-spares.ts): a run takes one as its own and ends it.
 */
export interface WarmPostgres {
  readonly pid: number;
  /** The server's start time (sandbox/owner.ts): a recycled pid is not the server. */
  readonly start?: number;
  readonly port: number;
  readonly adminUrl: string;
  readonly runDir: string;
  readonly startedAt: string;
}

const READY_TIMEOUT_MS = 20_000;
/** Run databases the warm cluster keeps ready for the next runs (spare-databases.ts). */
export const WARM_SPARES = 2;
/** Runs the warm cluster has connections for at once, each at its role's limit (clusterMaxConnections). */
export const WARM_RUNS = 8;

function statePath(): string {
  return cacheDir('services', 'postgres.json');
}

/** One warm cluster per cache dir (tests use their own SANDBOX_CACHE_DIR). */
function clusterName(): string {
  return `warm-pg-${createHash('sha256').update(cacheDir()).digest('hex').slice(0, 12)}`;
}

async function readState(): Promise<WarmPostgres | undefined> {
  try {
    return JSON.parse(await readFile(statePath(), 'utf8')) as WarmPostgres;
  } catch {
    return undefined;
  }
}

/** The warm cluster, when one is up and accepting connections (SANDBOX_WARM_SERVICES=off ignores it: a private cluster per run). */
export async function findWarmPostgres(): Promise<WarmPostgres | undefined> {
  if (process.env['SANDBOX_WARM_SERVICES'] === 'off') return undefined;
  const state = await readState();
  if (!state || !serverAlive(state)) return undefined;
  // Its unix socket is there while it accepts connections (a TCP probe would cost the server a fork).
  return existsSync(path.join(state.runDir, 'sock', `.s.PGSQL.${state.port}`)) ? state : undefined;
}

/** Starts the warm cluster (or returns the running one). Its output goes to postgres.log in its run dir. */
export async function startWarmPostgres(): Promise<WarmPostgres> {
  const running = await findWarmPostgres();
  if (running) return running;
  // Two starters at once (two cohort workers on one machine): one starts it, the other finds it.
  return withStartLock(async () => (await findWarmPostgres()) ?? startCluster());
}

/** One starter at a time per cache dir: a lock file naming its pid (a dead holder's lock is taken over). */
async function withStartLock<T>(work: () => Promise<T>): Promise<T> {
  const lock = cacheDir('services', 'postgres.lock');
  await mkdir(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + READY_TIMEOUT_MS + 10_000;
  for (;;) {
    try {
      await writeFile(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = Number(await readFile(lock, 'utf8').catch(() => ''));
      const age = Date.now() - ((await stat(lock).catch(() => undefined))?.mtimeMs ?? 0);
      // An empty lock is one being written; one that stays empty, or names a dead process, is stale.
      if ((holder && !pidAlive(holder)) || (!holder && age > 5000) || Date.now() > deadline)
        await rm(lock, { force: true });
      else await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    return await work();
  } finally {
    await rm(lock, { force: true });
  }
}

async function startCluster(): Promise<WarmPostgres> {
  await stopWarmPostgres(); // a dead one's files
  await rm(spareDatabasesDir(), { recursive: true, force: true }); // spares of a cluster long gone
  const c = await layoutCluster(clusterName(), undefined, WARM_RUNS);
  const logFile = path.join(c.runDir, 'postgres.log');
  const fd = openSync(logFile, 'a');
  const child = spawn(c.bins.postgres, c.args, {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, LC_ALL: 'C' },
    ...(c.user ? { uid: c.user.uid, gid: c.user.gid } : {}),
  });
  closeSync(fd);
  child.unref();
  const pid = child.pid;
  if (!pid) throw new Error('postgres could not be started');
  const state: WarmPostgres = {
    pid,
    start: processStart(pid) ?? 0,
    port: c.port,
    adminUrl: c.adminUrl,
    runDir: c.runDir,
    startedAt: new Date().toISOString(),
  };
  await mkdir(path.dirname(statePath()), { recursive: true });
  await writeFile(statePath(), JSON.stringify(state, null, 2));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const log = await readFile(logFile, 'utf8').catch(() => '');
    if (/ready to accept connections/.test(log)) {
      // The first run takes a spare clone and a spare redis-server (redis-spares.ts).
      await Promise.all([
        refillSpareDatabases(state.adminUrl, WARM_SPARES).catch(() => undefined),
        state.start
          ? refillSpareRedis({ pid, start: state.start }).catch(() => undefined)
          : undefined,
      ]);
      return state;
    }
    if (!pidAlive(pid)) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const log = await readFile(logFile, 'utf8').catch(() => '');
  await stopWarmPostgres();
  throw new Error(
    `the warm Postgres did not start within ${READY_TIMEOUT_MS / 1000} s\n${log.trim()}`,
  );
}

/** The recorded server still runs (pid and start time; a state without a start time: the pid alone). */
function serverAlive(state: WarmPostgres): boolean {
  return state.start ? ownerAlive({ pid: state.pid, start: state.start }) : pidAlive(state.pid);
}

/** Stops the warm cluster and removes its files; false when none was there. */
export async function stopWarmPostgres(): Promise<boolean> {
  const state = await readState();
  if (!state) return false;
  if (serverAlive(state)) {
    process.kill(state.pid, 'SIGQUIT'); // immediate shutdown: only throwaway run databases live here
    const deadline = Date.now() + 5000;
    while (serverAlive(state) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (serverAlive(state)) process.kill(state.pid, 'SIGKILL');
  }
  await rm(state.runDir, { recursive: true, force: true });
  await rm(spareDatabasesDir(), { recursive: true, force: true });
  await rm(statePath(), { force: true });
  await sweepOrphanRuns(); // its spare redis-servers: their keeper is gone
  return true;
}
