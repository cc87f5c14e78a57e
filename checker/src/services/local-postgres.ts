import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, cp, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { findPostgresBinaries, type PostgresBinaries } from './binaries';
import { cacheDir } from './cache-dir';
import { isRoot, lookupUser, type OsUser } from './os-user';
import { freePort } from './ports';
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

/** initdb once per Postgres version into the cache; later runs copy the result (~20 ms). */
async function templateCluster(bins: PostgresBinaries, user: OsUser | undefined): Promise<string> {
  const { stdout } = await run(bins.postgres, ['--version']);
  const version = (/(\d+)(\.\d+)?/.exec(stdout)?.[0] ?? 'x').replace(/\./g, '_');
  const dir = cacheDir(`pg-${version}-initdb`);
  if (await stat(path.join(dir, 'PG_VERSION')).then(() => true, () => false)) return dir;
  await mkdir(path.dirname(dir), { recursive: true });
  // initdb writes where its OS user can reach (a root home is not); the result is then copied into the cache.
  const work = await mkdtemp(path.join(os.tmpdir(), 'sandbox-initdb-'));
  const tmp = path.join(work, 'data');
  await mkdir(tmp, { mode: 0o700 });
  if (user) {
    await chmod(work, 0o755);
    await chown(tmp, user.uid, user.gid);
  }
  await run(bins.initdb, ['-D', tmp, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '--no-sync', '-E', 'UTF8', '--locale=C'], {
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
    env: { ...process.env, LC_ALL: 'C' },
  });
  const staged = `${dir}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`;
  await cp(tmp, staged, { recursive: true });
  await rm(work, { recursive: true, force: true });
  // Another run may have won the race; either copy is as good.
  await rename(staged, dir).catch(() => rm(staged, { recursive: true, force: true }));
  return dir;
}

/**
 * A private, throwaway Postgres cluster: a copy of the cached initdb, fsync off, its unix
 * socket in a private dir, TCP on a free 127.0.0.1 port. As root it runs as the `postgres`
 * OS user (postgres refuses to run as root).
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bins = findPostgresBinaries();
  if (!bins) throw new Error('no Postgres server binaries found (initdb/postgres on PATH or /usr/lib/postgresql/*/bin)');
  const user = isRoot() ? lookupUser('postgres') ?? lookupUser('nobody') : undefined;
  const template = await templateCluster(bins, user);
  const runDir = path.join(runsDir(), `pg-${process.pid}-${randomBytes(4).toString('hex')}`);
  const dataDir = path.join(runDir, 'data');
  const socketDir = path.join(runDir, 'sock');
  await mkdir(runsDir(), { recursive: true, mode: 0o755 });
  await mkdir(runDir, { mode: 0o700 });
  await writeFile(path.join(runDir, 'owner.pid'), String(process.pid));
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
    max_connections: '100',
    shared_buffers: '32MB',
    logging_collector: 'off',
  };
  const args = ['-D', dataDir, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  const proc = await startServerProcess(bins.postgres, args, {
    name: 'postgres',
    ready: /ready to accept connections/,
    timeoutMs: 20_000,
    env: { ...process.env, LC_ALL: 'C' },
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
  }).catch(async (e: unknown) => {
    await rm(runDir, { recursive: true, force: true });
    throw e;
  });
  return {
    port,
    // pg accepts a socket directory as host: the superuser never crosses TCP, so the proxy stays the app's only way in.
    adminUrl: `postgres://postgres@localhost:${port}/postgres?host=${encodeURIComponent(socketDir)}`,
    stop: async () => {
      await proc.stop('SIGQUIT', 2000); // immediate shutdown: nothing here is worth keeping
      await rm(runDir, { recursive: true, force: true });
    },
  };
}

/** Removes run dirs left by checkers that died without cleaning up (their owner pid is gone). */
export async function sweepOrphanRuns(): Promise<void> {
  const dir = runsDir();
  const entries = await readdir(dir).catch(() => [] as string[]);
  for (const name of entries) {
    const owner = Number(/^\w+-(\d+)-/.exec(name)?.[1]);
    if (!owner || owner === process.pid || pidAlive(owner)) continue;
    const pidFile = path.join(dir, name, 'data', 'postmaster.pid');
    const pg = await readFile(pidFile, 'utf8').catch(() => '');
    const pgPid = Number(pg.split('\n')[0]);
    if (pgPid && pidAlive(pgPid)) process.kill(pgPid, 'SIGQUIT');
    await rm(path.join(dir, name), { recursive: true, force: true });
  }
}

/** Private clusters live under the temp dir: the `postgres` OS user cannot enter a root home. */
function runsDir(): string {
  return path.join(os.tmpdir(), `backend-sandbox-runs-${process.getuid?.() ?? 'u'}`);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
