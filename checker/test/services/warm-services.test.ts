import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import Redis from 'ioredis';
import { Client } from 'pg';
import { prepareRun } from '../../src/runner/session';
import { runsDir, sweepOrphanRuns } from '../../src/services/local-postgres';
import { startLocalServices } from '../../src/services/local-services';
import { canConnect } from '../../src/services/ports';
import { REDIS_SPARES } from '../../src/services/redis-spares';
import {
  findWarmPostgres,
  startWarmPostgres,
  stopWarmPostgres,
  WARM_RUNS,
  WARM_SPARES,
  type WarmPostgres,
} from '../../src/services/warm-postgres';
import { clusterMaxConnections, RUN_CONNECTION_LIMIT } from '../../src/services/run-database';
import { connectEach } from '../support/connect-as';
import { stillAlive } from '../support/leftovers';
import { writeTinyApp } from '../support/tiny-app';

async function adminQuery<T>(adminUrl: string, sql: string): Promise<T[]> {
  const c = new Client({ connectionString: adminUrl });
  await c.connect();
  try {
    return (await c.query(sql)).rows as T[];
  } finally {
    await c.end();
  }
}

async function databasesLike(adminUrl: string, pattern: string): Promise<string[]> {
  const rows = await adminQuery<{ datname: string }>(
    adminUrl,
    `SELECT datname FROM pg_database WHERE datname LIKE '${pattern}' ORDER BY datname`,
  );
  return rows.map((r) => r.datname);
}

/** The spare redis-servers `warm` keeps: port and pid (a test never connects to a spare it keeps). */
function redisSpares(warm: WarmPostgres): { port: number; pid: number }[] {
  return readdirSync(runsDir())
    .filter((d) => d.startsWith(`redisspare-${warm.pid}-`))
    .map(
      (dir) =>
        JSON.parse(readFileSync(path.join(runsDir(), dir, 'spare.json'), 'utf8')) as {
          port: number;
          pid: number;
        },
    );
}

/** The pid of the redis-server in a run dir (it writes its pid file). */
const redisPid = (dir: string): number =>
  Number(readFileSync(path.join(runsDir(), dir, 'redis.pid'), 'utf8'));

/** Runs `script` (test/support) with tsx and resolves with its first line of output. */
async function child(script: string): Promise<{ line: string; proc: ChildProcess }> {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(__dirname, '..', 'support', script)],
    // jest's process.env (with this suite's SANDBOX_CACHE_DIR) is not the one spawn passes on by default.
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env } },
  );
  const [data] = (await once(proc.stdout as Readable, 'data')) as [Buffer];
  return { line: data.toString().trim(), proc };
}

describe('sandbox services: a warm private Postgres', () => {
  const cache = mkdtempSync(path.join(os.tmpdir(), 'sandbox-warm-cache-'));
  const saved = process.env['SANDBOX_CACHE_DIR'];
  beforeAll(() => {
    process.env['SANDBOX_CACHE_DIR'] = cache; // its own warm cluster, never the developer's
    delete process.env['SANDBOX_WARM_SERVICES'];
  });
  afterAll(async () => {
    await stopWarmPostgres();
    if (saved === undefined) delete process.env['SANDBOX_CACHE_DIR'];
    else process.env['SANDBOX_CACHE_DIR'] = saved;
    rmSync(cache, { recursive: true, force: true });
  });

  it('is reused by runs, each with its own database dropped at the end, and stops with `down`', async () => {
    expect(await findWarmPostgres()).toBeUndefined();
    const warm = await startWarmPostgres();
    expect(await startWarmPostgres()).toEqual(warm); // up twice: still one cluster
    const tiny = writeTinyApp();
    const progress: string[] = [];
    const phases: string[] = [];
    let own = '';
    try {
      const run = await prepareRun({
        workspace: tiny.dir,
        onProgress: (m) => progress.push(m),
        onTiming: (p) => phases.push(p),
      });
      own = new URL(run.context.env['DATABASE_URL']!).pathname.slice(1);
      expect(await databasesLike(warm.adminUrl, own)).toEqual([own]);
      expect((await run.context.app.http.get('/health')).response.status).toBe(200);
      await run.dispose();
    } finally {
      tiny.remove();
    }
    expect(progress).not.toContain('Starting Postgres...');
    expect(progress).not.toContain('Starting Redis...'); // a spare redis-server was taken
    expect(phases).toEqual(
      expect.arrayContaining(['services.database', 'setup.services', 'setup.app']),
    );
    expect(phases).not.toContain('services.postgres');
    expect(await databasesLike(warm.adminUrl, own)).toEqual([]);
    expect(stillAlive([warm.pid])).toEqual([warm.pid]);
    const spares = redisSpares(warm);
    expect(spares).toHaveLength(REDIS_SPARES);

    expect(await stopWarmPostgres()).toBe(true);
    expect(redisSpares(warm)).toEqual([]); // its spare redis-servers end with it
    expect(stillAlive(spares.map((s) => s.pid))).toEqual([]);
    expect(stillAlive([warm.pid])).toEqual([]);
    expect(existsSync(warm.runDir)).toBe(false);
    expect(await findWarmPostgres()).toBeUndefined();
  }, 90_000);
});

describe('run databases on the warm Postgres: spares made ahead, orphans swept in the background', () => {
  const cache = mkdtempSync(path.join(os.tmpdir(), 'sandbox-warm-cache-'));
  const saved = process.env['SANDBOX_CACHE_DIR'];
  let warm: WarmPostgres;
  beforeAll(async () => {
    process.env['SANDBOX_CACHE_DIR'] = cache;
    delete process.env['SANDBOX_WARM_SERVICES'];
    warm = await startWarmPostgres();
  }, 60_000);
  afterAll(async () => {
    await stopWarmPostgres();
    if (saved === undefined) delete process.env['SANDBOX_CACHE_DIR'];
    else process.env['SANDBOX_CACHE_DIR'] = saved;
    rmSync(cache, { recursive: true, force: true });
  });

  it('a run takes a spare as its own database, closed to every other role; the spares are made again', async () => {
    const oids = async (where: string): Promise<number[]> =>
      (
        await adminQuery<{ oid: number }>(
          warm.adminUrl,
          `SELECT oid::int AS oid FROM pg_database WHERE ${where} ORDER BY oid`,
        )
      ).map((r) => r.oid);
    const spares = `datname LIKE 'sandbox\\_db\\_%'`;
    const before = await oids(spares);
    expect(before).toHaveLength(WARM_SPARES); // `services up` made them
    const a = await startLocalServices({});
    const b = await startLocalServices({});
    try {
      // A spare made ahead, renamed to the run's own name (a database keeps its oid when renamed).
      const [own] = await oids(`datname = '${a.databaseName}'`);
      expect(before).toContain(own);
      const rows = await adminQuery<{ own: boolean; other: boolean; pub: boolean; owner: string }>(
        warm.adminUrl,
        `SELECT has_database_privilege('${a.databaseName}', '${a.databaseName}', 'CONNECT') AS own,
                has_database_privilege('${b.databaseName}', '${a.databaseName}', 'CONNECT') AS other,
                has_database_privilege('public', '${a.databaseName}', 'CONNECT') AS pub,
                pg_get_userbyid(datdba) AS owner
           FROM pg_database WHERE datname = '${a.databaseName}'`,
      );
      expect(rows).toEqual([{ own: true, other: false, pub: false, owner: a.databaseName }]);
      // The app's URL reaches its database with its own role, through the proxy.
      const app = new Client({ connectionString: a.appDatabaseUrl });
      await app.connect();
      const { rows: who } = await app.query<{ db: string; u: string }>(
        'SELECT current_database() AS db, current_user AS u',
      );
      await app.end();
      expect(who).toEqual([{ db: a.databaseName, u: a.databaseName }]);
    } finally {
      await a.dispose();
      await b.dispose();
    }
    expect(await databasesLike(warm.adminUrl, a.databaseName)).toEqual([]);
    expect(await databasesLike(warm.adminUrl, b.databaseName)).toEqual([]);
    const after = await oids(spares);
    expect(after).toHaveLength(WARM_SPARES); // made again in the background; dispose waited for it
    expect(after.filter((oid) => before.includes(oid))).toEqual([]); // both were taken
  }, 60_000);

  it("lets a run's role into its own database only, and has connections for WARM_RUNS runs at their roles' limit", async () => {
    const a = await startLocalServices({});
    try {
      const url = new URL(a.appDatabaseUrl);
      const [role, password] = [decodeURIComponent(url.username), decodeURIComponent(url.password)];
      const tries = await connectEach(warm.adminUrl, { role, password }, [
        a.databaseName,
        'postgres',
        'template1',
        'sandbox_template',
      ]);
      // 42501: permission denied for database (CONNECT revoked from PUBLIC).
      expect(tries).toEqual([
        `connected to ${a.databaseName}`,
        'refused: 42501',
        'refused: 42501',
        'refused: 42501',
      ]);
      const [limits] = await adminQuery<{ max: string; role: number }>(
        warm.adminUrl,
        `SELECT current_setting('max_connections') AS max, rolconnlimit AS role FROM pg_roles WHERE rolname = '${role}'`,
      );
      expect(limits).toEqual({
        max: String(clusterMaxConnections(WARM_RUNS)),
        role: RUN_CONNECTION_LIMIT,
      });
    } finally {
      await a.dispose();
    }
  }, 60_000);

  it('a run never takes a spare redis-server another client touched; each run has its own; spares are started again', async () => {
    const spares = redisSpares(warm);
    expect(spares).toHaveLength(REDIS_SPARES); // `services up` started them
    // Someone connects to each spare before a run takes it (as a process that found the ports could).
    for (const { port } of spares) {
      const intruder = new Redis(port, '127.0.0.1', { lazyConnect: true });
      await intruder.connect();
      await intruder.set('planted', 'by someone else');
      intruder.disconnect();
    }
    const a = await startLocalServices({});
    // a found every spare touched: it ended them and started a server of its own.
    expect(stillAlive(spares.map((s) => s.pid))).toEqual([]);
    const b = await startLocalServices({});
    try {
      const app = new Redis(a.appRedisUrl, { lazyConnect: true });
      await app.connect();
      await app.set('mine', 'a');
      app.disconnect();
      expect(await a.redis.call('get', 'mine')).toBe('a');
      expect(await b.redis.call('get', 'mine')).toBeNull(); // each run its own server
      for (const run of [a, b]) expect(await run.redis.call('get', 'planted')).toBeNull();
    } finally {
      await a.dispose();
      await b.dispose();
    }
    const again = redisSpares(warm);
    expect(again).toHaveLength(REDIS_SPARES);
    expect(stillAlive(again.map((s) => s.pid))).toHaveLength(REDIS_SPARES);
  }, 60_000);

  it('the next checker drops the database and role of a SIGKILLed one and ends its Redis (the sweep is off the hot path, not gone)', async () => {
    const killed = await child('database-owner-child.ts');
    const { database, pid } = JSON.parse(killed.line) as { database: string; pid: number };
    // The spare redis-server it took: its run dir, now named after the checker.
    const [taken] = readdirSync(runsDir()).filter((d) => d.startsWith(`redis-${pid}-`));
    expect(existsSync(path.join(runsDir(), taken!, 'spare.json'))).toBe(true);
    const server = redisPid(taken!);
    killed.proc.kill('SIGKILL');
    await once(killed.proc, 'exit');
    // Left, as a SIGKILLed checker leaves them: its database and the spare redis-server it took.
    expect(await databasesLike(warm.adminUrl, database)).toEqual([database]);
    expect(stillAlive([server])).toEqual([server]);

    const next = await child('services-once-child.ts');
    await once(next.proc, 'exit');
    expect(next.line).toBe('done');
    expect(await databasesLike(warm.adminUrl, database)).toEqual([]);
    expect(stillAlive([server])).toEqual([]);
    const roles = await adminQuery<{ rolname: string }>(
      warm.adminUrl,
      `SELECT rolname FROM pg_roles WHERE rolname = '${database}'`,
    );
    expect(roles).toEqual([]);
  }, 60_000);
});

describe('sweepOrphanRuns', () => {
  it('ends the private redis-server of a SIGKILLed checker and removes its run dir', async () => {
    // node itself (not the tsx wrapper), so the SIGKILL reaches the owner.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(__dirname, '..', 'support', 'redis-owner-child.ts')],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const [line] = (await once(child.stdout, 'data')) as [Buffer];
    const { port, pid } = JSON.parse(line.toString()) as { port: number; pid: number };
    expect(pid).toBe(child.pid);
    const ownDirs = (): string[] =>
      readdirSync(runsDir()).filter((d) => d.startsWith(`redis-${pid}-`));
    expect(await canConnect(port)).toBe(true);
    expect(ownDirs()).toHaveLength(1);
    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(await canConnect(port)).toBe(true); // left behind, as a SIGKILLed checker leaves it

    await sweepOrphanRuns();
    for (let i = 0; i < 40 && (await canConnect(port)); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(await canConnect(port)).toBe(false);
    expect(ownDirs()).toEqual([]);
  }, 30_000);
});
