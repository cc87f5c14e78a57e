import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';
import { prepareRun } from '../src/runner/session';
import { createRunDatabase } from '../src/services/run-database';
import { writeTinyApp } from './support/tiny-app';
import {
  countLabelled,
  ENGINE_SETUP_HINT,
  findEngine,
  removeLabelled,
  resolveImages,
  startContainerServices,
  type ContainerServices,
} from '../src/engine';

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
