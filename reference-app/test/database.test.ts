import { createServer, type Server, type Socket } from 'node:net';
import { Client } from 'pg';
import { startFaultProxy, type FaultProxy } from '../../checker/src/services/fault-proxy';
import { createDb, pingDb } from '../src/lib/db';
import { startTestApp, type TestApp } from './support/app';
import { createTestDatabase, type TestDatabase } from './support/database';
import { client } from './support/http';

// Real services, and a machine shared with other suites: starting an app can take seconds.
jest.setTimeout(20_000);

const waitFor = async (what: string, probe: () => Promise<boolean>, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

describe('step 2: the users table', () => {
  let database: TestDatabase;
  let pg: Client;
  beforeAll(async () => {
    database = await createTestDatabase();
    pg = new Client({ connectionString: database.url });
    await pg.connect();
  });
  afterAll(async () => {
    await pg.end();
    await database.drop();
  });

  it('has the contract columns with uuid ids and email_verified defaulting to false', async () => {
    const { rows } = await pg.query<{ id: string; email_verified: boolean; created_at: Date }>(
      "insert into users (email, password_hash) values ('a@example.test', 'x') returning id, email_verified, created_at",
    );
    expect(rows[0]?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(rows[0]?.email_verified).toBe(false);
    expect(rows[0]?.created_at).toBeInstanceOf(Date);
  });

  it('refuses an email that differs only in case', async () => {
    await pg.query("insert into users (email, password_hash) values ('Case@example.test', 'x')");
    await expect(
      pg.query("insert into users (email, password_hash) values ('cASE@EXAMPLE.test', 'x')"),
    ).rejects.toMatchObject({
      code: '23505',
    });
  });
});

describe('step 2: GET /health with the database', () => {
  let proxy: FaultProxy;
  let database: TestDatabase;
  let app: TestApp;
  beforeAll(async () => {
    database = await createTestDatabase();
    proxy = await startFaultProxy({ host: '127.0.0.1', port: 5432 });
    const throughProxy = new URL(database.url);
    throughProxy.port = String(proxy.port);
    app = await startTestApp({ DATABASE_URL: throughProxy.toString() });
  });
  afterAll(async () => {
    await proxy.toggle.up();
    await app.stop();
    await proxy.close();
    await database.drop();
  });

  it('reports the database up', async () => {
    const res = await client(app.url).get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', checks: { database: 'up', redis: 'up' } });
  });

  it('answers 503 database down while Postgres is unreachable, keeps running, and recovers', async () => {
    await proxy.toggle.down();
    const started = Date.now();
    const down = await client(app.url).get('/health');
    expect(Date.now() - started).toBeLessThan(1500);
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ status: 'error', checks: { database: 'down' } });

    // Other routes fail without taking the process down.
    const signup = await client(app.url).post('/auth/signup', {
      body: { email: 'down@example.test', password: 'password1' },
    });
    expect(signup.status).toBeGreaterThanOrEqual(500);

    await proxy.toggle.up();
    await waitFor('health 200', async () => (await client(app.url).get('/health')).status === 200);
    const back = await client(app.url).get('/health');
    expect(back.body).toMatchObject({ status: 'ok', checks: { database: 'up' } });
  });
});

describe('pingDb', () => {
  let blackhole: Server;
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    // Accepts connections and never answers, like a host that went silent.
    blackhole = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => blackhole.close(resolve));
  });

  it('gives up after its timeout when the database does not answer', async () => {
    const address = blackhole.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const db = createDb(`postgres://postgres@127.0.0.1:${port}/none`);
    const started = Date.now();
    try {
      expect(await pingDb(db, 1000)).toBe(false);
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
      expect(Date.now() - started).toBeLessThan(1500);
    } finally {
      for (const socket of sockets) socket.destroy();
      await db.destroy();
    }
  });
});
