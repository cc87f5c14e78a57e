import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './spawn';

/**
 * The machine's Redis, one logical db per jest worker (1..15; db 0 is left to people).
 * The app's keys carry random UUIDs, so files sharing a db never touch each other's data.
 */
export function testRedisUrl(): string {
  const worker = Number(process.env.JEST_WORKER_ID ?? '1');
  const db = ((worker - 1) % 15) + 1;
  return `${process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'}/${db}`;
}

export interface PrivateRedis {
  url: string;
  port: number;
  /** Starts (again) on the same port; resolves when it answers PING. */
  start(): Promise<void>;
  /** Stops the server process (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
}

/** A throwaway redis-server that this test may stop and start at will (nothing kept on disk). */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const start = async () => {
    const proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    child = proc;
    await waitUntilPong(url);
  };
  const stop = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  };
  await start();
  return { url, port, start, stop };
}

async function waitUntilPong(url: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.ping();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      client.disconnect();
    }
  }
}
