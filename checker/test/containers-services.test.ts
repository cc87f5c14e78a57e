import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';
import { connectEach, databasesOpenToPublic } from './support/connect-as';
import { prepareRun } from '../src/runner/session';
import {
  clusterMaxConnections,
  createRunDatabase,
  RUN_CONNECTION_LIMIT,
} from '../src/services/run-database';
import { writeTinyApp } from './support/tiny-app';
import {
  countLabelled,
  ENGINE_SETUP_HINT,
  findEngine,
  removeLabelled,
  resolveImages,
  engine,
  startContainerServices,
  WarmContainerServices,
  type ContainerServices,
} from '../src/engine';
import { LABEL_RUN } from '../src/engine/labels';

jest.setTimeout(120_000);

const NONE = { containers: 0, networks: 0, volumes: 0 };

describe('services from containers', () => {
  let services: ContainerServices;

  beforeAll(async () => {
    // Under CI and locally alike, no engine is a failure that says how to get one (never a silent skip).
    if (!(await findEngine())) throw new Error(ENGINE_SETUP_HINT);
    services = await startContainerServices({ runId: `test-${randomBytes(4).toString('hex')}` });
  });

  afterAll(async () => {
    await services?.stop();
    if (services) expect(await countLabelled(services.runId)).toEqual(NONE);
  });

  it('labels both containers with the run id', async () => {
    expect(await countLabelled(services.runId)).toEqual({ containers: 2, networks: 0, volumes: 0 });
  });

  it('gives each run its own database and role on the container Postgres', async () => {
    const [a, b] = await Promise.all([
      createRunDatabase(services.databaseUrl),
      createRunDatabase(services.databaseUrl),
    ]);
    try {
      expect(a.name).not.toBe(b.name);
      const client = new Client({
        connectionString: a.appUrl(
          new URL(services.databaseUrl).hostname,
          Number(new URL(services.databaseUrl).port),
        ),
      });
      await client.connect();
      const { rows } = await client.query<{ db: string; su: boolean }>(
        'SELECT current_database() AS db, usesuper AS su FROM pg_user WHERE usename = current_user',
      );
      await client.end();
      expect(rows).toEqual([{ db: a.name, su: false }]);
    } finally {
      await Promise.all([a.drop(), b.drop()]);
    }
  });

  it('serves Redis', async () => {
    const redis = new Redis(services.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    const key = `t:${randomBytes(4).toString('hex')}`;
    await redis.set(key, 'v', 'PX', 10_000);
    expect(await redis.get(key)).toBe('v');
    redis.disconnect();
  });
});

describe('two runs on the process’s service containers', () => {
  it('each has a Redis server of its own: one run’s app flushing everything and reconfiguring its Redis changes nothing of the other’s', async () => {
    if (!(await findEngine())) throw new Error(ENGINE_SETUP_HINT);
    const tiny = writeTinyApp();
    const [a, b] = await Promise.all(
      [0, 1].map(() => prepareRun({ workspace: tiny.dir, services: 'containers' })),
    );
    try {
      // The test speaks for each app, through the very URL the app was given.
      const connect = async (url: string | undefined): Promise<Redis> => {
        const r = new Redis(url!, { lazyConnect: true, maxRetriesPerRequest: 1 });
        await r.connect();
        return r;
      };
      const [appA, appB] = await Promise.all(
        [a!, b!].map((r) => connect(r.context.env['REDIS_URL'])),
      );
      try {
        await appB.set('kept', 'by b');
        await appA.flushall();
        await appA.config('SET', 'maxmemory', '1mb');
        expect(await appB.get('kept')).toBe('by b');
        expect(await appB.config('GET', 'maxmemory')).toEqual(['maxmemory', '0']);
        const runId = async (r: Redis): Promise<string | undefined> =>
          /run_id:(\w+)/.exec(await r.info('server'))?.[1];
        expect(await runId(appA)).not.toEqual(await runId(appB));
      } finally {
        appA.disconnect();
        appB.disconnect();
      }
    } finally {
      await Promise.all([a?.dispose(), b?.dispose()]);
      tiny.remove();
    }
  }, 240_000);
});

async function redisKeys(url: string): Promise<string[]> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    return await redis.keys('*');
  } finally {
    redis.disconnect();
  }
}

describe("a worker's warm service containers", () => {
  let warm: WarmContainerServices;

  beforeAll(async () => {
    if (!(await findEngine())) throw new Error(ENGINE_SETUP_HINT);
    warm = new WarmContainerServices({ spares: 1 });
    warm.warmUp();
  });

  afterAll(async () => {
    await warm?.stop();
    if (warm) expect(await countLabelled(warm.runId)).toEqual(NONE);
  });

  it('keeps one Postgres across gradings, and gives each grading a Redis container of its own that no later grading gets', async () => {
    const a = await warm.take();
    const key = `left-by-a:${randomBytes(4).toString('hex')}`;
    const redisA = new Redis(a.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redisA.connect();
    await redisA.set(key, 'secret');
    await redisA.config('SET', 'notify-keyspace-events', 'KEA');
    redisA.disconnect();
    const b = await warm.take();
    a.release();
    const c = await warm.take();
    try {
      expect(new Set([a.redisUrl, b.redisUrl, c.redisUrl]).size).toBe(3);
      expect([b.databaseUrl, c.databaseUrl]).toEqual([a.databaseUrl, a.databaseUrl]);
      expect(await redisKeys(b.redisUrl)).toEqual([]);
      expect(await redisKeys(c.redisUrl)).toEqual([]);
      expect(warm.stats.postgresStarts).toBe(1);
    } finally {
      b.release();
      c.release();
    }
    // a's container is removed once released: its port no longer answers.
    const deadline = Date.now() + 30_000;
    let gone = false;
    while (!gone && Date.now() < deadline) {
      gone = await redisKeys(a.redisUrl).then(
        () => false,
        () => true,
      );
      if (!gone) await new Promise((r) => setTimeout(r, 500));
    }
    expect(gone).toBe(true);
  });

  it("lets a run's role connect to its own database only: not postgres, template1, the runs' template or another run's", async () => {
    const lease = await warm.take();
    const [x, y] = await Promise.all([
      createRunDatabase(lease.databaseUrl),
      createRunDatabase(lease.databaseUrl),
    ]);
    try {
      const tries = await connectEach(lease.databaseUrl, x, [
        x.name,
        y.name,
        'postgres',
        'template1',
        'sandbox_template',
      ]);
      // 28000: no pg_hba.conf entry for that role and database.
      expect(tries).toEqual([
        `connected to ${x.name}`,
        'refused: 28000',
        'refused: 28000',
        'refused: 28000',
        'refused: 28000',
      ]);
      // Behind the hba file, no database is open to PUBLIC either; connections for its gradings at their roles' limit.
      expect(await databasesOpenToPublic(lease.databaseUrl)).toEqual([]);
      const admin = new Client({ connectionString: lease.databaseUrl });
      await admin.connect();
      const { rows } = await admin.query<{ max: string; role: number }>(
        `SELECT current_setting('max_connections') AS max, rolconnlimit AS role FROM pg_roles WHERE rolname = $1`,
        [x.role],
      );
      await admin.end();
      expect(rows).toEqual([{ max: String(clusterMaxConnections(1)), role: RUN_CONNECTION_LIMIT }]);
    } finally {
      await Promise.all([x.drop(), y.drop()]);
      lease.release();
    }
  });

  it('starts its Postgres again when it stopped answering (killed under the worker)', async () => {
    const docker = await engine();
    const containers = await docker.listContainers({
      filters: { label: [`${LABEL_RUN}=${warm.runId}`] },
    });
    const postgres = containers.filter((c) => c.Image.includes('postgres'));
    expect(postgres).toHaveLength(1);
    await docker.getContainer(postgres[0]!.Id).remove({ force: true });
    const lease = await warm.take();
    try {
      const db = await createRunDatabase(lease.databaseUrl);
      await db.drop();
      expect(warm.stats.postgresStarts).toBe(2);
    } finally {
      lease.release();
    }
  });
});

describe('cleanup by label', () => {
  beforeAll(async () => {
    if (!(await findEngine())) throw new Error(ENGINE_SETUP_HINT);
  });

  it('removes the containers of an interrupted checker (its process is gone)', async () => {
    const runId = `interrupted-${randomBytes(4).toString('hex')}`;
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(__dirname, 'fixtures', 'interrupted-run.ts'), runId],
      {
        cwd: path.join(__dirname, '..', '..'),
        encoding: 'utf8',
        timeout: 90_000,
      },
    );
    expect(child.signal).toBe('SIGKILL');
    expect(await countLabelled(runId)).toEqual({ containers: 2, networks: 0, volumes: 0 });
    const removed = await removeLabelled({ orphansOnly: true });
    expect(removed.containers).toBeGreaterThanOrEqual(2);
    expect(await countLabelled(runId)).toEqual(NONE);
  });
});

describe('cleanup of a killed worker', () => {
  it("removes a SIGKILLed worker's warm service containers (its Postgres, its grading's Redis)", async () => {
    if (!(await findEngine())) throw new Error(ENGINE_SETUP_HINT);
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(__dirname, 'fixtures', 'interrupted-worker-services.ts')],
      { cwd: path.join(__dirname, '..', '..'), encoding: 'utf8', timeout: 90_000 },
    );
    expect(child.signal).toBe('SIGKILL');
    const runId = child.stdout.trim();
    expect((await countLabelled(runId)).containers).toBeGreaterThanOrEqual(2);
    await removeLabelled({ orphansOnly: true });
    expect(await countLabelled(runId)).toEqual(NONE);
  });
});

describe('image names are configuration', () => {
  it('uses the official images without a local build, the local build when present, and env overrides first', () => {
    expect(resolveImages({}, '/nonexistent/images.json')).toEqual({
      postgres: 'postgres:16-alpine',
      redis: 'redis:7-alpine',
      node: 'node:20-slim',
      local: false,
    });
    expect(() => resolveImages({ SANDBOX_LOCAL_IMAGES: '1' }, '/nonexistent/images.json')).toThrow(
      /build\.sh/,
    );
    expect(
      resolveImages({ SANDBOX_REDIS_IMAGE: 'my/redis:1' }, '/nonexistent/images.json').redis,
    ).toBe('my/redis:1');
  });
});
