import net from 'node:net';
import Redis from 'ioredis';
import { startFaultProxy, type FaultProxy } from '../../src/services/fault-proxy';

/** Resolves with 'open' or the connect error code. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve('open');
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
}

describe('fault proxy in front of a real Redis', () => {
  let proxy: FaultProxy;
  let redis: Redis | undefined;
  beforeEach(async () => {
    proxy = await startFaultProxy({ host: '127.0.0.1', port: 6379 });
  });
  afterEach(async () => {
    const closed =
      redis && redis.status !== 'end'
        ? new Promise((resolve) => redis?.once('end', resolve))
        : undefined;
    redis?.disconnect();
    await proxy.close();
    await closed;
    redis = undefined;
  });

  it('passes traffic through', async () => {
    redis = new Redis({ port: proxy.port, host: '127.0.0.1', lazyConnect: true });
    await redis.connect();
    await expect(redis.ping()).resolves.toBe('PONG');
  });

  it('down() refuses new connections and cuts open ones; up() serves again on the same port', async () => {
    const port = proxy.port;
    redis = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => 50,
    });
    await redis.connect();
    const closed = new Promise<void>((resolve) => redis?.once('close', () => resolve()));

    await proxy.toggle.down();
    await closed;
    expect(proxy.isUp).toBe(false);
    expect(await tryConnect(port)).toBe('ECONNREFUSED');

    await proxy.toggle.up();
    expect(proxy.port).toBe(port);
    expect(await tryConnect(port)).toBe('open');
    await new Promise<void>((resolve) =>
      redis?.status === 'ready' ? resolve() : redis?.once('ready', () => resolve()),
    );
    await expect(redis.ping()).resolves.toBe('PONG');
  });

  it('hang() accepts connections but answers nothing; up() cuts the frozen ones and serves again', async () => {
    redis = new Redis({
      port: proxy.port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => 50,
    });
    await redis.connect();
    await proxy.toggle.hang();
    expect(proxy.isHanging).toBe(true);
    const answer = (r: Redis): Promise<string> =>
      Promise.race([
        r.ping().catch(() => 'error'),
        new Promise<string>((resolve) => setTimeout(() => resolve('no answer'), 300)),
      ]);
    expect(await answer(redis)).toBe('no answer');
    expect(await tryConnect(proxy.port)).toBe('open');

    const cut = new Promise<void>((resolve) => redis?.once('close', () => resolve()));
    await proxy.toggle.up();
    expect(proxy.isHanging).toBe(false);
    await cut;
    await new Promise<void>((resolve) => redis?.once('ready', () => resolve()));
    await expect(redis.ping()).resolves.toBe('PONG');
  });

  it('cuts the client when the upstream is unreachable', async () => {
    const dead = await startFaultProxy({ host: '127.0.0.1', port: 1 });
    try {
      const ended = await new Promise<string>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port: dead.port });
        s.once('close', () => resolve('closed'));
        s.once('error', () => undefined);
      });
      expect(ended).toBe('closed');
    } finally {
      await dead.close();
    }
  });
});
