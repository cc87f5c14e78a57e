import { Redis } from 'ioredis';
import { startTestApp, type TestApp } from './support/app';
import { client } from './support/http';
import { startPrivateRedis, type PrivateRedis } from './support/redis';
import { newUser } from './support/users';

// Real services, and a machine shared with other suites: starting an app can take seconds.
jest.setTimeout(20_000);

interface NoteRes {
  note: { id: string; title: string; body: string };
}

const waitFor = async (what: string, probe: () => Promise<boolean>, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

describe('step 6: cache-aside for GET /notes/:id', () => {
  let app: TestApp;
  let redis: Redis;
  let alice: ReturnType<typeof client>;
  beforeAll(async () => {
    app = await startTestApp();
    redis = new Redis(app.config.redisUrl);
    alice = client(app.url, (await newUser(app.url)).token);
  });
  afterAll(async () => {
    await redis.quit();
    await app.stop();
  });

  const createNote = async (title = 'cached') =>
    (await alice.post<NoteRes>('/notes', { body: { title } })).body.note;

  it('answers MISS, then HIT with the same body', async () => {
    const note = await createNote();
    const first = await alice.get<NoteRes>(`/notes/${note.id}`);
    const second = await alice.get<NoteRes>(`/notes/${note.id}`);
    expect(first.headers.get('x-cache')).toBe('MISS');
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(second.status).toBe(200);
    expect(second.text).toBe(first.text);
  });

  it('keeps the note under a cache: key containing its id, with a TTL', async () => {
    const note = await createNote();
    await alice.get(`/notes/${note.id}`);
    const key = `cache:note:${note.id}`;
    await waitFor('the key', async () => (await redis.exists(key)) === 1);
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThanOrEqual(1);
    expect(ttl).toBeLessThanOrEqual(86_400);
  });

  it('never serves a stale note after PATCH', async () => {
    const note = await createNote('old title');
    await alice.get(`/notes/${note.id}`);
    expect((await alice.get(`/notes/${note.id}`)).headers.get('x-cache')).toBe('HIT');
    await alice.patch(`/notes/${note.id}`, { body: { title: 'new title' } });
    const after = await alice.get<NoteRes>(`/notes/${note.id}`);
    expect(after.headers.get('x-cache')).toBe('MISS');
    expect(after.body.note.title).toBe('new title');
  });

  it('answers 404 after DELETE even though the note was cached', async () => {
    const note = await createNote();
    await alice.get(`/notes/${note.id}`);
    expect((await alice.get(`/notes/${note.id}`)).headers.get('x-cache')).toBe('HIT');
    expect((await alice.delete(`/notes/${note.id}`)).status).toBe(204);
    expect((await alice.get(`/notes/${note.id}`)).status).toBe(404);
  });

  it('checks ownership on a HIT: another user still gets 404', async () => {
    const note = await createNote('mine');
    await alice.get(`/notes/${note.id}`);
    expect((await alice.get(`/notes/${note.id}`)).headers.get('x-cache')).toBe('HIT');
    const bob = client(app.url, (await newUser(app.url)).token);
    const res = await bob.get(`/notes/${note.id}`);
    expect(res.status).toBe(404);
    expect(res.text).not.toContain('mine');
  });
});

describe('step 6: Redis away and back', () => {
  let redis: PrivateRedis;
  let app: TestApp;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    app = await startTestApp({ REDIS_URL: redis.url });
  });
  afterAll(async () => {
    await app.stop();
    await redis.stop();
  });

  it('answers 200 MISS from Postgres quickly while Redis is stopped, and uses the cache again once it is back', async () => {
    const alice = client(app.url, (await newUser(app.url)).token);
    const note = (await alice.post<NoteRes>('/notes', { body: { title: 'resilient' } })).body.note;
    await alice.get(`/notes/${note.id}`);
    expect((await alice.get(`/notes/${note.id}`)).headers.get('x-cache')).toBe('HIT');

    await redis.stop();
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      const res = await alice.get<NoteRes>(`/notes/${note.id}`);
      expect(Date.now() - started).toBeLessThan(500);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-cache')).toBe('MISS');
      expect(res.body.note.title).toBe('resilient');
    }
    // Writes while Redis is away still succeed.
    expect(
      (await alice.patch(`/notes/${note.id}`, { body: { title: 'changed while away' } })).status,
    ).toBe(200);
    const health = await client(app.url).get('/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ checks: { database: 'up', redis: 'down' } });

    await redis.start();
    await waitFor(
      'a cache HIT',
      async () => (await alice.get(`/notes/${note.id}`)).headers.get('x-cache') === 'HIT',
    );
    const hit = await alice.get<NoteRes>(`/notes/${note.id}`);
    expect(hit.body.note.title).toBe('changed while away');
  });
});
