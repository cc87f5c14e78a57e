import { randomUUID } from 'node:crypto';
import { createServer, Socket, type Server } from 'node:net';
import { Redis } from 'ioredis';
import { NoteCache, noteCacheKey } from '../src/cache/note-cache';
import { noNoteEvents } from '../src/deps';
import { createDb, type Db } from '../src/lib/db';
import { createLogger } from '../src/lib/logger';
import { closeRedis, createRedis, waitForRedis } from '../src/lib/redis';
import { NotesRepository } from '../src/notes/notes.repository';
import { NotesService } from '../src/notes/notes.service';
import type { Note } from '../src/notes/notes.types';
import { createTestDatabase, type TestDatabase } from './support/database';
import { testRedisUrl } from './support/redis';

jest.setTimeout(20_000);

const logger = createLogger('silent');

/** The real repository, but a read can be held after Postgres answered (to interleave a write). */
class HoldableNotesRepository extends NotesRepository {
  private held: { reached: () => void; release: Promise<void> } | undefined;

  /** The next find() reads Postgres, resolves `reached`, then waits for `release()`. */
  holdNextFind(): { reached: Promise<void>; release: () => void } {
    let reached!: () => void;
    let release!: () => void;
    const reachedP = new Promise<void>((r) => (reached = r));
    this.held = { reached, release: new Promise<void>((r) => (release = r)) };
    return { reached: reachedP, release };
  }

  override async find(userId: string, id: string): Promise<Note | undefined> {
    const note = await super.find(userId, id);
    const held = this.held;
    this.held = undefined;
    if (held) {
      held.reached();
      await held.release;
    }
    return note;
  }
}

/** A TCP proxy to the machine's Redis that the test can cut and restore (Redis keeps its data). */
async function startRedisProxy(target: URL) {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = new Socket();
    upstream.connect(Number(target.port || 6379), target.hostname);
    client.pipe(upstream).pipe(client);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
  });
  const listen = (p: number) =>
    new Promise<void>((resolve) => server.listen(p, '127.0.0.1', () => resolve()));
  await listen(0);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `redis://127.0.0.1:${port}${target.pathname}`,
    /** Closes the listener and every connection: clients see Redis as gone. */
    cut: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
    restore: () => listen(port),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        if (server.listening) server.close(() => resolve());
        else resolve();
      }),
  };
}

const waitFor = async (what: string, probe: () => Promise<boolean>, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

describe('note cache: races between a read filling the cache and a write', () => {
  let database: TestDatabase;
  let db: Db;
  let inspector: Redis;
  let userId: string;
  beforeAll(async () => {
    database = await createTestDatabase();
    db = createDb(database.url, logger);
    inspector = new Redis(testRedisUrl());
    const [user] = await db('users')
      .insert({ email: `race-${randomUUID()}@example.test`, password_hash: 'not-a-login' })
      .returning<{ id: string }[]>('id');
    userId = user?.id ?? '';
  });
  afterAll(async () => {
    await inspector.quit();
    await db.destroy();
    await database.drop();
  });

  const notesWith = (redisUrl: string) => {
    const redis = createRedis(redisUrl, 'cache', logger);
    const repository = new HoldableNotesRepository(db);
    const cache = new NoteCache(redis, 300, logger);
    const service = new NotesService(repository, cache, noNoteEvents);
    return {
      redis,
      repository,
      service,
      close: async () => {
        cache.close();
        await closeRedis(redis);
      },
    };
  };

  it('when a PATCH lands between a miss reading Postgres and its fill, the old note is not cached', async () => {
    const { redis, repository, service, close } = notesWith(testRedisUrl());
    try {
      expect(await waitForRedis(redis, 5000)).toBe(true);
      const note = await service.create(userId, { title: 'before', body: '' });
      const hold = repository.holdNextFind();
      const slowRead = service.get(userId, note.id);
      await hold.reached; // the read has the old row in hand
      await service.update(userId, note.id, { title: 'after' });
      hold.release();
      expect((await slowRead).note.title).toBe('before'); // it began before the write
      await new Promise((resolve) => setTimeout(resolve, 100)); // the fill is fire-and-forget

      const next = await service.get(userId, note.id);
      expect(next.note.title).toBe('after');
      expect(next.cache).toBe('MISS');
      await waitFor(
        'the fresh fill',
        async () => (await inspector.exists(noteCacheKey(note.id))) === 1,
      );
      const hit = await service.get(userId, note.id);
      expect(hit).toMatchObject({ cache: 'HIT', note: { title: 'after' } });
    } finally {
      await close();
    }
  });

  it('when a DELETE lands between a miss reading Postgres and its fill, nothing is cached', async () => {
    const { redis, repository, service, close } = notesWith(testRedisUrl());
    try {
      expect(await waitForRedis(redis, 5000)).toBe(true);
      const note = await service.create(userId, { title: 'doomed', body: '' });
      const hold = repository.holdNextFind();
      const slowRead = service.get(userId, note.id);
      await hold.reached;
      await service.delete(userId, note.id);
      hold.release();
      await slowRead;
      await new Promise((resolve) => setTimeout(resolve, 100));

      expect(await inspector.exists(noteCacheKey(note.id))).toBe(0);
      await expect(service.get(userId, note.id)).rejects.toMatchObject({ status: 404 });
    } finally {
      await close();
    }
  });

  it('when a PATCH cannot reach Redis, the cached old note is never served once Redis is back', async () => {
    const proxy = await startRedisProxy(new URL(testRedisUrl()));
    const { redis, service, close } = notesWith(proxy.url);
    try {
      expect(await waitForRedis(redis, 5000)).toBe(true);
      const note = await service.create(userId, { title: 'before', body: '' });
      await service.get(userId, note.id);
      await waitFor(
        'the cached note',
        async () => (await inspector.exists(noteCacheKey(note.id))) === 1,
      );
      expect((await service.get(userId, note.id)).cache).toBe('HIT');

      await proxy.cut();
      await waitFor('the client to notice', async () => redis.status !== 'ready');
      expect((await service.update(userId, note.id, { title: 'after' })).title).toBe('after');
      // Redis itself still holds the old entry: the invalidation never reached it.
      expect(await inspector.exists(noteCacheKey(note.id))).toBe(1);

      await proxy.restore();
      await waitFor('the client to reconnect', async () => redis.status === 'ready');
      const first = await service.get(userId, note.id);
      expect(first.note.title).toBe('after');
      await waitFor('the owed invalidation', async () => {
        const cached = await inspector.get(noteCacheKey(note.id));
        return cached === null || cached.includes('"after"');
      });
      for (let i = 0; i < 3; i++)
        expect((await service.get(userId, note.id)).note.title).toBe('after');
    } finally {
      await close();
      await proxy.close();
    }
  });
});
