import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmod,
  chown,
  cp,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { lstatSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { orphaned, ownerTag, processStart } from '../sandbox/owner';
import { findPostgresBinaries, type PostgresBinaries } from './binaries';
import { cacheDir } from './cache-dir';
import { isRoot, lookupUser, type OsUser } from './os-user';
import { freePort } from './ports';
import { CLOSE_CLUSTER_SQL, clusterMaxConnections } from './run-database';
import { startServerProcess } from './server-process';

const run = promisify(execFile);

export interface PrivatePostgres {
  /** Superuser URL over TCP (trust on the private socket dir only; see pg_hba below). */
  readonly adminUrl: string;
  readonly port: number;
  stop(): Promise<void>;
}

async function chownTree(dir: string, user: OsUser): Promise<void> {
  await run('chown', ['-R', `${user.uid}:${user.gid}`, dir]);
}

/**
 * Runs `sql` in a stopped cluster (`postgres --single`, as the cluster's OS user): no server, no
 * port. Single-user mode reports a failed statement on its output and still exits 0.
 */
async function runSingleUser(
  bins: PostgresBinaries,
  dataDir: string,
  user: OsUser | undefined,
  sql: string,
): Promise<void> {
  const single = run(bins.postgres, ['--single', '-D', dataDir, '-c', 'fsync=off', 'postgres'], {
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
    env: { ...process.env, LC_ALL: 'C' },
  });
  single.child.stdin?.end(`${sql};\n`);
  const { stdout, stderr } = await single;
  if (/\bERROR:/.test(stdout + stderr))
    throw new Error(`postgres --single could not run ${sql}:\n${stdout}${stderr}`);
}

/**
 * initdb once per Postgres version into the cache, with `postgres` and `template1` closed to PUBLIC
 * (CLOSE_CLUSTER_SQL: a run's role reaches its own database only); later runs copy the result
 * (~20 ms). `-2`: caches made before that closing are not used.
 */
export async function templateCluster(
  bins: PostgresBinaries,
  user: OsUser | undefined,
): Promise<string> {
  const { stdout } = await run(bins.postgres, ['--version']);
  const version = (/(\d+)(\.\d+)?/.exec(stdout)?.[0] ?? 'x').replace(/\./g, '_');
  const dir = cacheDir(`pg-${version}-initdb-2`);
  if (
    await stat(path.join(dir, 'PG_VERSION')).then(
      () => true,
      () => false,
    )
  )
    return dir;
  await mkdir(path.dirname(dir), { recursive: true });
  // initdb writes where its OS user can reach (a root home is not); the result is then copied into the cache.
  const work = await mkdtemp(path.join(os.tmpdir(), 'sandbox-initdb-'));
  const tmp = path.join(work, 'data');
  await mkdir(tmp, { mode: 0o700 });
  if (user) {
    await chmod(work, 0o755);
    await chown(tmp, user.uid, user.gid);
  }
  await run(
    bins.initdb,
    [
      '-D',
      tmp,
      '-U',
      'postgres',
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      '--no-sync',
      '-E',
      'UTF8',
      '--locale=C',
    ],
    {
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
      env: { ...process.env, LC_ALL: 'C' },
    },
  );
  await runSingleUser(bins, tmp, user, CLOSE_CLUSTER_SQL);
  const staged = `${dir}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`;
  await cp(tmp, staged, { recursive: true });
  await rm(work, { recursive: true, force: true });
  // Another run may have won the race; either copy is as good.
  await rename(staged, dir).catch(() => rm(staged, { recursive: true, force: true }));
  return dir;
}

/** A cluster laid out on disk and ready to be started: a copy of the cached initdb, owned by the server's OS user. */
export interface ClusterLayout {
  readonly bins: PostgresBinaries;
  readonly user: OsUser | undefined;
  readonly runDir: string;
  readonly dataDir: string;
  readonly socketDir: string;
  readonly port: number;
  /** postgres's command line (data dir and settings). */
  readonly args: string[];
  readonly adminUrl: string;
}

/**
 * Copies the cached initdb into runsDir()/`name` and picks a port; `ownerPid` is written for sweeps.
 * Sized for `runs` runs at once (clusterMaxConnections).
 */
export async function layoutCluster(
  name: string,
  ownerPid: number | undefined,
  runs: number,
): Promise<ClusterLayout> {
  const bins = findPostgresBinaries();
  if (!bins)
    throw new Error(
      'no Postgres server binaries found (initdb/postgres on PATH or /usr/lib/postgresql/*/bin)',
    );
  const user = isRoot() ? (lookupUser('postgres') ?? lookupUser('nobody')) : undefined;
  const template = await templateCluster(bins, user);
  const runDir = path.join(runsDir(), name);
  const dataDir = path.join(runDir, 'data');
  const socketDir = path.join(runDir, 'sock');
  await mkdir(runsDir(), { recursive: true, mode: 0o755 });
  await mkdir(runDir, { mode: 0o700 });
  if (ownerPid !== undefined) await writeFile(path.join(runDir, 'owner.pid'), String(ownerPid));
  await cp(template, dataDir, { recursive: true });
  await mkdir(socketDir, { mode: 0o700 });
  if (user) await chownTree(runDir, user);
  const port = await freePort();
  const settings = {
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: socketDir,
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: String(clusterMaxConnections(runs)),
    shared_buffers: '32MB',
    logging_collector: 'off',
  };
  return {
    bins,
    user,
    runDir,
    dataDir,
    socketDir,
    port,
    args: ['-D', dataDir, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])],
    // pg accepts a socket directory as host: the superuser never crosses TCP, so the proxy stays the app's only way in.
    adminUrl: `postgres://postgres@localhost:${port}/postgres?host=${encodeURIComponent(socketDir)}`,
  };
}

/**
 * A private, throwaway Postgres cluster for one run: a copy of the cached initdb, fsync off, its unix
 * socket in a private dir, TCP on a free 127.0.0.1 port. As root it runs as the `postgres`
 * OS user (postgres refuses to run as root).
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const c = await layoutCluster(
    `pg-${ownerTag()}-${randomBytes(4).toString('hex')}`,
    process.pid,
    1,
  );
  const proc = await startServerProcess(c.bins.postgres, c.args, {
    name: 'postgres',
    ready: /ready to accept connections/,
    timeoutMs: 20_000,
    env: { ...process.env, LC_ALL: 'C' },
    ...(c.user ? { uid: c.user.uid, gid: c.user.gid } : {}),
  }).catch(async (e: unknown) => {
    await rm(c.runDir, { recursive: true, force: true });
    throw e;
  });
  return {
    port: c.port,
    adminUrl: c.adminUrl,
    stop: async () => {
      await proc.stop('SIGQUIT', 2000); // immediate shutdown: nothing here is worth keeping
      await rm(c.runDir, { recursive: true, force: true });
    },
  };
}

/** Server pid files a run dir may hold, with the signal that ends that server at once. */
const SERVER_PID_FILES: readonly { file: string; command: string; signal: NodeJS.Signals }[] = [
  { file: 'data/postmaster.pid', command: 'postgres', signal: 'SIGQUIT' },
  { file: 'redis.pid', command: 'redis-server', signal: 'SIGKILL' },
];

/** Removes run dirs (private Postgres clusters, private redis-servers) left by checkers that died without cleaning up. */
export async function sweepOrphanRuns(): Promise<void> {
  const dir = runsDir();
  const entries = await readdir(dir).catch(() => [] as string[]);
  for (const name of entries) {
    if (!orphaned(name.slice(name.indexOf('-') + 1))) continue; // pg-PID-START-x, redis-PID-START-x
    for (const server of SERVER_PID_FILES) {
      const pid = Number(
        (await readFile(path.join(dir, name, server.file), 'utf8').catch(() => '')).split('\n')[0],
      );
      // A recycled pid may belong to someone else now: only signal the server it was.
      if (pid && pidAlive(pid) && (await commandOf(pid)).includes(server.command)) {
        process.kill(pid, server.signal);
        await ended(pid, SERVER_END_MS);
      }
    }
    await rm(path.join(dir, name), { recursive: true, force: true });
  }
}

/** How long a swept server is waited for after its signal (a SIGKILLed one ends within milliseconds, unless the machine is loaded). */
const SERVER_END_MS = 2000;

/** Resolves once `pid` has ended (gone, or a zombie), or after `ms`: a sweep returns with its servers gone, not going. */
async function ended(pid: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (processStart(pid) !== undefined && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 10));
}

async function commandOf(pid: number): Promise<string> {
  return readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
}

let trusted: string | undefined;

/**
 * Private clusters and redis-servers live under the temp dir (the `postgres` OS user cannot enter
 * a root home), in a folder that must be this user's own (ownFolder). Checked once per process:
 * /tmp's sticky bit keeps it ours.
 */
export function runsDir(): string {
  const dir = path.join(os.tmpdir(), `backend-sandbox-runs-${process.getuid?.() ?? 'u'}`);
  if (trusted !== dir) trusted = ownFolder(dir);
  return dir;
}

/**
 * Makes `dir` if need be and returns it when it is a folder of this user's that no one else may
 * write; throws otherwise. In a shared /tmp another user could make it first (or plant a link) and
 * swap what is in it: a run dir naming another process as its server, a socket of theirs.
 */
export function ownFolder(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const st = lstatSync(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o022) !== 0)
    throw new Error(
      `${dir} is not this user's own folder (someone else may have made it): remove it, or set TMPDIR to a private folder`,
    );
  return dir;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
