import { findRedisServer } from './binaries';
import { freePort } from './ports';
import { startServerProcess } from './server-process';

export interface PrivateRedis {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** A private redis-server for one run: free port, loopback only, nothing kept on disk. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const bin = findRedisServer();
  if (!bin) throw new Error('redis-server was not found on PATH');
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', '/tmp', '--protected-mode', 'yes', '--loglevel', 'notice'];
  const proc = await startServerProcess(bin, args, { name: 'redis-server', ready: /Ready to accept connections/, timeoutMs: 10_000 });
  return { url: `redis://127.0.0.1:${port}`, port, stop: () => proc.stop('SIGKILL', 1000) };
}
