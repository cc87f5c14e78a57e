import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { ownerTag } from '../sandbox/owner';
import { findRedisServer } from './binaries';
import { runsDir } from './local-postgres';
import { freePort } from './ports';
import { startServerProcess } from './server-process';

export interface PrivateRedis {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** redis-server's command line: `port` on loopback only, nothing kept on disk, its pid file in `dir`. */
export function redisArgs(port: number, dir: string): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--pidfile',
    path.join(dir, 'redis.pid'),
    '--protected-mode',
    'yes',
    '--loglevel',
    'notice',
  ];
}

/**
 * A private redis-server for one run: free port, loopback only, nothing kept on disk. Its pid file
 * sits in a run dir named after this checker (pid and start time, sandbox/owner.ts), so sweepOrphanRuns() ends it if the checker is SIGKILLed.
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const bin = findRedisServer();
  if (!bin) throw new Error('redis-server was not found on PATH');
  const runDir = path.join(runsDir(), `redis-${ownerTag()}-${randomBytes(4).toString('hex')}`);
  await mkdir(runsDir(), { recursive: true, mode: 0o755 });
  await mkdir(runDir, { mode: 0o700 });
  const port = await freePort();
  const proc = await startServerProcess(bin, redisArgs(port, runDir), {
    name: 'redis-server',
    ready: /Ready to accept connections/,
    timeoutMs: 10_000,
  }).catch(async (e: unknown) => {
    await rm(runDir, { recursive: true, force: true });
    throw e;
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: async () => {
      await proc.stop('SIGKILL', 1000);
      await rm(runDir, { recursive: true, force: true });
    },
  };
}
