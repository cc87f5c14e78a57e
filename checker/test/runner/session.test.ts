import { Client } from 'pg';
import Redis from 'ioredis';
import { prepareRun, SetupError, type Run } from '../../src/runner/session';
import { postgresObjects, processesMentioning, stillAlive } from '../support/leftovers';
import { writeTinyApp, type TinyApp } from '../support/tiny-app';

const MACHINE_PG = 'postgres://postgres@127.0.0.1:5432/postgres';

describe('prepareRun on a tiny Express app (private Postgres and Redis)', () => {
  let tiny: TinyApp;
  let run: Run;
  const progress: string[] = [];

  beforeAll(async () => {
    process.env['SANDBOX_WARM_SERVICES'] = 'off'; // a private cluster for this run even when `sandbox services up` runs
    tiny = writeTinyApp();
    run = await prepareRun({ workspace: tiny.dir, onProgress: (m) => progress.push(m) });
  }, 30_000);
  afterAll(async () => {
    await run?.dispose();
    tiny.remove();
  });

  it('starts the app with the contract variables and reports progress', async () => {
    const { env, app } = run.context;
    expect(Object.keys(env)).toEqual(
      expect.arrayContaining([
        'PORT',
        'DATABASE_URL',
        'REDIS_URL',
        'JWT_SECRET',
        'SMTP_URL',
        'MAIL_FROM',
        'PUBLIC_URL',
        'JOB_BACKOFF_MS',
        'WS_HEARTBEAT_MS',
      ]),
    );
    expect(env.JWT_SECRET).toHaveLength(48);
    expect(env.PORT).toBe(String(app.port));
    const ex = await app.http.get('/env');
    expect(ex.response.status).toBe(200);
    expect(ex.response.json).toMatchObject({ PORT: String(app.port), NODE_ENV: 'production' });
    expect(progress).toEqual(
      expect.arrayContaining(['Starting Postgres...', 'Starting Redis...', 'Starting your app...']),
    );
  });

  it('gives the app its own database through a proxy, readable but not writable by the inspector', async () => {
    const client = new Client({ connectionString: run.context.env.DATABASE_URL });
    await client.connect();
    await client.query('CREATE TABLE things (name text)');
    await client.query("INSERT INTO things VALUES ('one')");
    const { rows } = await client.query<{ rolsuper: boolean }>(
      'SELECT rolsuper FROM pg_roles WHERE rolname = current_user',
    );
    expect(rows[0]?.rolsuper).toBe(false);
    await client.end();
    await expect(run.context.db.query('SELECT name FROM things')).resolves.toEqual([
      { name: 'one' },
    ]);
    await expect(run.context.db.query('DELETE FROM things')).rejects.toThrow(/read-only/);
  });

  it('database fault: down refuses the app, up lets it in again', async () => {
    await run.context.faults.database.down();
    const refused = new Client({
      connectionString: run.context.env.DATABASE_URL,
      connectionTimeoutMillis: 1000,
    });
    await expect(refused.connect()).rejects.toThrow(/ECONNREFUSED/);
    await run.context.faults.database.up();
    const ok = new Client({ connectionString: run.context.env.DATABASE_URL });
    await ok.connect();
    await expect(ok.query('SELECT 1 AS one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
    await ok.end();
  });

  it('gives the app a Redis; the inspector reads and refuses writes', async () => {
    const redis = new Redis(run.context.env.REDIS_URL!);
    await redis.set('cache:abc', 'v', 'EX', 60);
    await redis.quit();
    await expect(run.context.redis.call('GET', 'cache:abc')).resolves.toBe('v');
    await expect(run.context.redis.call('TTL', 'cache:abc')).resolves.toBeGreaterThan(0);
    await expect(run.context.redis.call('SET', 'x', '1')).rejects.toThrow(/read-only/);
  });

  it("SIGTERM reaches the node process itself: the exit code is the app's", async () => {
    const { app } = run.context;
    app.signal('SIGTERM');
    await expect(app.waitForExit(5000)).resolves.toEqual({ code: 0, signal: null });
    expect(app.running).toBe(false);
    await run.ensureAppRunning();
    expect(app.running).toBe(true);
    expect((await app.http.get('/health')).response.status).toBe(200);
  });

  it('restart() comes back on the same port', async () => {
    const { app } = run.context;
    const before = (await app.http.get('/env')).response.json as { pid: number };
    await app.restart();
    const after = (await app.http.get('/env')).response.json as { pid: number };
    expect(after.pid).not.toBe(before.pid);
    expect(stillAlive([before.pid])).toEqual([]);
  });

  it('kill() ends the whole tree, also a grandchild that left the process group', async () => {
    const { app } = run.context;
    const escaped = (await app.http.post('/escape')).response.json as { pid: number };
    const appPid = ((await app.http.get('/env')).response.json as { pid: number }).pid;
    expect(stillAlive([escaped.pid])).toEqual([escaped.pid]);
    await app.kill();
    expect(stillAlive([appPid, escaped.pid])).toEqual([]);
  });

  it('startInstance() runs a second app on another port, stopped by afterCheck()', async () => {
    await run.ensureAppRunning();
    const second = await run.context.startInstance();
    expect(second.port).not.toBe(run.context.app.port);
    const pid = ((await second.http.get('/env')).response.json as { pid: number }).pid;
    await run.afterCheck();
    expect(second.running).toBe(false);
    expect(stillAlive([pid])).toEqual([]);
    expect(run.context.app.running).toBe(true);
  });

  it('startInstance({ ownFaults, ownRedisDatabase, env }): proxies, a Redis database and variables of its own, all closed by afterCheck()', async () => {
    await run.ensureAppRunning();
    const { app, env } = run.context;
    const second = await run.context.startInstance({
      ownFaults: true,
      ownRedisDatabase: true,
      env: { VERIFY_TOKEN_TTL_SECONDS: '2' },
    });
    expect(second.env.VERIFY_TOKEN_TTL_SECONDS).toBe('2');
    expect(env.VERIFY_TOKEN_TTL_SECONDS).not.toBe('2');
    const portOf = (url: string | undefined): number => Number(new URL(url!).port);
    const [dbPort, redisPort] = [portOf(second.env.DATABASE_URL), portOf(second.env.REDIS_URL)];
    expect(dbPort).not.toBe(portOf(env.DATABASE_URL));
    expect(redisPort).not.toBe(portOf(env.REDIS_URL));
    expect(new URL(second.env.REDIS_URL!).pathname).toMatch(/^\/([1-9]|1[0-5])$/);
    const reaches = async (from: typeof app, port: number): Promise<boolean> =>
      ((await from.http.get(`/tcp?port=${port}`)).response.json as { connected: boolean })
        .connected;
    // The app (in the run's sandbox) reaches the instance's own proxies...
    expect(await reaches(second, dbPort)).toBe(true);
    expect(await reaches(second, redisPort)).toBe(true);
    // ...whose faults take Postgres away from it alone.
    await second.faults.database.down();
    expect(await reaches(second, dbPort)).toBe(false);
    const client = new Client({ connectionString: env.DATABASE_URL });
    await client.connect();
    await expect(client.query('SELECT 1 AS one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
    await client.end();
    await second.faults.database.up();
    const viaInstance = new Client({ connectionString: second.env.DATABASE_URL });
    await viaInstance.connect();
    await viaInstance.end();
    // Its Redis database: its own, read-only for the checks.
    const writer = new Redis(second.env.REDIS_URL!);
    await writer.set('mine', '1');
    await writer.quit();
    await expect(second.redis.call('GET', 'mine')).resolves.toBe('1');
    await expect(run.context.redis.call('GET', 'mine')).resolves.toBeNull();
    await expect(second.redis.call('SET', 'mine', '2')).rejects.toThrow(/read-only/);
    await run.afterCheck();
    expect(second.running).toBe(false);
    expect(app.running).toBe(true);
    // The proxies are closed, and the fence no longer opens their ports: a server listening
    // there now (another run's, say) is out of the app's reach.
    const net = await import('node:net');
    const squatter = net.createServer((s) => s.destroy());
    await new Promise<void>((resolve) => squatter.listen(dbPort, '127.0.0.1', resolve));
    try {
      expect(await reaches(app, dbPort)).toBe(!run.runtime.contained);
    } finally {
      squatter.close();
    }
  });

  it('unique() gives distinct prefixed tokens', () => {
    const a = run.context.unique('user');
    expect(a).toMatch(/^user-[a-z0-9]+$/);
    expect(run.context.unique('user')).not.toBe(a);
  });
});

describe('prepareRun cleanup', () => {
  it('dispose leaves no database, role, redis-server or app process behind (given Postgres URL)', async () => {
    const tiny = writeTinyApp();
    try {
      const run = await prepareRun({ workspace: tiny.dir, databaseUrl: MACHINE_PG });
      const appPid = ((await run.context.app.http.get('/env')).response.json as { pid: number })
        .pid;
      const redisPort = new URL(run.context.env.REDIS_URL!).port;
      expect(postgresObjects(MACHINE_PG, `sandbox_run_${process.pid}_`)).toHaveLength(2);
      await run.dispose();
      expect(postgresObjects(MACHINE_PG, `sandbox_run_${process.pid}_`)).toEqual([]);
      expect(stillAlive([appPid])).toEqual([]);
      expect(processesMentioning(tiny.dir)).toEqual([]);
      expect(redisPort).not.toBe('6379');
    } finally {
      tiny.remove();
    }
  }, 30_000);

  it('onAppStarting is told once, as the app starts; release() stops the app and the services, dispose() the rest', async () => {
    const tiny = writeTinyApp();
    try {
      let told = 0;
      const run = await prepareRun({
        workspace: tiny.dir,
        databaseUrl: MACHINE_PG,
        onAppStarting: () => told++,
      });
      expect(told).toBe(1);
      const appPid = ((await run.context.app.http.get('/env')).response.json as { pid: number })
        .pid;
      await run.release();
      expect(stillAlive([appPid])).toEqual([]);
      expect(postgresObjects(MACHINE_PG, `sandbox_run_${process.pid}_`)).toEqual([]);
      await run.dispose();
      expect(processesMentioning(tiny.dir)).toEqual([]);
    } finally {
      tiny.remove();
    }
  }, 30_000);

  it('a workspace without a start script is a submission SetupError saying what to do', async () => {
    const tiny = writeTinyApp({ noStart: true });
    try {
      const err = await prepareRun({ workspace: tiny.dir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SetupError);
      expect(err).toMatchObject({
        kind: 'submission',
        code: 'NO_START_SCRIPT',
        message: expect.stringContaining('"start"'),
      });
    } finally {
      tiny.remove();
    }
  });

  it('a missing workspace is a checker SetupError', async () => {
    await expect(prepareRun({ workspace: '/nonexistent/workspace' })).rejects.toMatchObject({
      kind: 'checker',
      code: 'NO_WORKSPACE',
    });
  });
});
