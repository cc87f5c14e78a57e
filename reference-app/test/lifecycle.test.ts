import { startTestApp } from './support/app';

jest.setTimeout(20_000);

describe('start().stop(): the one graceful shutdown', () => {
  it('runs drain hooks, then closers in order while Postgres and Redis are still open, once', async () => {
    const app = await startTestApp();
    const { lifecycle, db, redis } = app.app.deps;
    const order: string[] = [];
    lifecycle.onDrain('sockets', () => {
      order.push('drain');
    });
    lifecycle.onClose('worker', async () => {
      await db.raw('select 1');
      order.push(`worker (redis ${redis.status})`);
    });
    lifecycle.onClose('queue', () => {
      order.push('queue');
    });

    await Promise.all([app.app.stop(), app.app.stop()]);
    await app.database.drop();

    expect(order).toEqual(['drain', 'worker (redis ready)', 'queue']);
    expect(redis.status).toBe('end');
    await expect(fetch(`${app.url}/health`)).rejects.toThrow();
  });

  it('keeps closing when one closer fails', async () => {
    const app = await startTestApp();
    const closed: string[] = [];
    app.app.deps.lifecycle.onClose('broken', () => Promise.reject(new Error('boom')));
    app.app.deps.lifecycle.onClose('after', () => {
      closed.push('after');
    });
    await app.stop();
    expect(closed).toEqual(['after']);
  });
});
