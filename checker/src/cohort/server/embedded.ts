import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { findPostgresBinaries } from '../../services/binaries';
import { pidAlive, templateCluster } from '../../services/local-postgres';
import { startPrivateRedis } from '../../services/local-redis';
import { isRoot, lookupUser } from '../../services/os-user';
import { freePort } from '../../services/ports';
import { startServerProcess, type ServerProcess } from '../../services/server-process';

const run = promisify(execFile);
const DATABASE = 'sandbox_cohort';

/**
 * Where `sandbox serve` keeps its embedded Postgres when no DATABASE_URL is given:
 * SANDBOX_COHORT_DATA, else ~/.local/share/backend-sandbox/cohort (as root /var/lib/backend-sandbox/cohort:
 * the postgres OS user that runs the server cannot enter /root).
 */
export function defaultDataDir(): string {
  if (process.env['SANDBOX_COHORT_DATA']) return path.resolve(process.env['SANDBOX_COHORT_DATA']);
  if (isRoot()) return '/var/lib/backend-sandbox/cohort';
  const base = process.env['XDG_DATA_HOME'] ?? path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'backend-sandbox', 'cohort');
}

export interface EmbeddedPostgres {
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * A Postgres cluster kept in `dataDir/postgres` (created from the checker's cached initdb on
 * first start), listening on a private socket in `dataDir/sock` and a free loopback port.
 * Stopped with a fast shutdown: the data stays for the next start.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  /** A port to listen on (a restart on the same address); a free one otherwise. */
  port?: number,
): Promise<EmbeddedPostgres> {
  const bins = findPostgresBinaries();
  if (!bins)
    throw new Error(
      'no Postgres server binaries found for the embedded database (install postgresql, or set DATABASE_URL)',
    );
  const user = isRoot() ? (lookupUser('postgres') ?? lookupUser('nobody')) : undefined;
  const clusterDir = path.join(dataDir, 'postgres');
  const socketDir = path.join(dataDir, 'sock');
  await mkdir(dataDir, { recursive: true, mode: 0o755 });
  if (user) await chmod(dataDir, 0o755);
  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    await cp(await templateCluster(bins, user), clusterDir, { recursive: true });
    await chmod(clusterDir, 0o700);
  }
  await mkdir(socketDir, { recursive: true, mode: 0o700 });
  if (user) await run('chown', ['-R', `${user.uid}:${user.gid}`, clusterDir, socketDir]);
  await stopLeftover(clusterDir);
  port ??= await freePort();
  const proc: ServerProcess = await startServerProcess(
    bins.postgres,
    [
      '-D',
      clusterDir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `port=${port}`,
      '-c',
      `unix_socket_directories=${socketDir}`,
      '-c',
      'max_connections=100',
      '-c',
      'logging_collector=off',
    ],
    {
      name: 'postgres',
      ready: /ready to accept connections/,
      timeoutMs: 30_000,
      env: { ...process.env, LC_ALL: 'C' },
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    },
  );
  const admin = `postgres://postgres@localhost:${port}/postgres?host=${encodeURIComponent(socketDir)}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [DATABASE]);
    if (found.rowCount === 0) await client.query(`create database ${DATABASE}`);
  } finally {
    await client.end();
  }
  return {
    url: `postgres://postgres@localhost:${port}/${DATABASE}?host=${encodeURIComponent(socketDir)}`,
    dataDir,
    stop: () => proc.stop('SIGINT', 10_000),
  };
}

/** A server left running by a `sandbox serve` that was killed holds the data dir: stop it first. */
async function stopLeftover(clusterDir: string): Promise<void> {
  const pid = Number(
    (await readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8').catch(() => '')).split(
      '\n',
    )[0],
  );
  if (!pid || !pidAlive(pid)) return;
  const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmd.includes('postgres')) return;
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 10_000;
  while (pidAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

/** The embedded Redis: a private redis-server for this service (the queue is rebuilt from Postgres after a restart). */
export async function startEmbeddedRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  return startPrivateRedis();
}

/** The session secret of an embedded service, made once and kept in the data dir. */
export async function embeddedSessionSecret(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'session-secret');
  const existing = await readFile(file, 'utf8').catch(() => '');
  if (existing.trim().length >= 32) return existing.trim();
  const secret = randomBytes(32).toString('base64url');
  await writeFile(file, secret, { mode: 0o600 });
  return secret;
}
