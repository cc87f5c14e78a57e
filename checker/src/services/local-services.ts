import type { DbInspector, ServiceToggle } from '../harness/api';
import { startFaultProxy, type FaultProxy } from './fault-proxy';
import { startPrivatePostgres, sweepOrphanRuns, type PrivatePostgres } from './local-postgres';
import { startPrivateRedis, type PrivateRedis } from './local-redis';
import { startMailSink, type StartedMailSink } from './mail-sink';
import { createRedisInspector, type ClosableRedisInspector } from './redis-inspector';
import { createRunDatabase, sweepOrphanDatabases, type RunDatabase } from './run-database';
import { timed, type OnTiming } from '../runner/timings';
import { findWarmPostgres, WARM_SPARES, type WarmPostgres } from './warm-postgres';
import { claimSpareRedis, refillSpareRedis } from './redis-spares';
import { claimSpareDatabase, refillSpareDatabases, sweepSpareDatabases } from './spare-databases';
import { sweepInBackground } from './orphan-sweeps';

export interface LocalServicesOptions {
  /** Admin URL of a Postgres to create the run's database on; otherwise a private cluster is started. */
  databaseUrl?: string;
  /** A Redis to use as-is; otherwise a private redis-server is started. */
  redisUrl?: string;
  onProgress?: (message: string) => void;
  /**
   * Phase durations: services.postgres, services.database, services.redis, services.mail; and, in
   * dispose(), services.teardown (the run's own) and services.background (sweeps, refills of spares).
   */
  onTiming?: OnTiming;
}

/** Everything the app and the checks need besides the app itself. */
export interface Services {
  /** URLs handed to the app (they go through the fault proxies). */
  readonly appDatabaseUrl: string;
  readonly appRedisUrl: string;
  readonly mail: StartedMailSink;
  readonly db: DbInspector;
  readonly redis: ClosableRedisInspector;
  readonly faults: { readonly database: ServiceToggle; readonly redis: ServiceToggle };
  readonly databaseName: string;
  /**
   * Fault proxies of their own in front of the run's same Postgres database and Redis, for one app
   * instance: its `faults` take the services away from that instance alone. Closed by close(), or
   * with the run.
   */
  startInstanceProxies(): Promise<InstanceProxies>;
  /**
   * A Redis db index that nothing of the run uses yet, never handed out twice, when the run's Redis
   * server is its own (a private or spare redis-server: db 0 is the run's, 1..15 are free);
   * undefined when the server is shared (a given URL, one db index per run) or all are taken.
   */
  claimRedisDatabase(): number | undefined;
  /** A read-only inspector of db `index` on the run's Redis server; closed with the run too. */
  redisInspector(index: number): ClosableRedisInspector;
  dispose(): Promise<void>;
}

/** One instance's own way to the run's Postgres and Redis (services.startInstanceProxies()). */
export interface InstanceProxies {
  readonly appDatabaseUrl: string;
  readonly appRedisUrl: string;
  /** The host ports the app connects to (the process runtime's fence opens them). */
  readonly ports: number[];
  readonly faults: { readonly database: ServiceToggle; readonly redis: ServiceToggle };
  close(): Promise<void>;
}

function hostPort(url: string, defaultPort: number): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname || '127.0.0.1', port: Number(u.port || defaultPort) };
}

function redisUrlThrough(url: string, proxyPort: number): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(proxyPort);
  return u.toString();
}

/** Local mode: private (or given) Postgres and Redis, proxies in front, a mail sink; started in parallel. */
export async function startLocalServices(opts: LocalServicesOptions): Promise<Services> {
  // Three chains, each undone in reverse (a proxy or client before the server behind it), side by
  // side: Postgres (proxy, run database, private cluster), Redis (proxy, server), the rest.
  type Cleanup = () => Promise<unknown>;
  const pgCleanups: Cleanup[] = [];
  const redisCleanups: Cleanup[] = [];
  const cleanups: Cleanup[] = [];
  const teardown = async (): Promise<void> => {
    await Promise.all(
      [pgCleanups, redisCleanups, cleanups].map(async (chain) => {
        for (const step of chain.splice(0).reverse()) await step().catch(() => undefined);
      }),
    );
  };
  /** Work started for later runs (sweeps, refills of spares): waited for after this run's own teardown. */
  const background: Promise<unknown>[] = [];
  const undo = async (): Promise<void> => {
    await teardown();
    await Promise.all(background.splice(0));
  };
  try {
    // What SIGKILLed checkers left (servers, run dirs, run databases) is swept in the background,
    // off this run's hot path; the run waits for the sweep when it ends, never when it starts.
    const sweeping = (key: string, sweep: () => Promise<unknown>): void => {
      background.push(sweepInBackground(key, sweep));
    };
    sweeping('runs', sweepOrphanRuns);
    // `sandbox services up`: kept between runs, with spare clones and spare redis-servers ready.
    const warmUp: Promise<WarmPostgres | undefined> =
      opts.databaseUrl && opts.redisUrl ? Promise.resolve(undefined) : findWarmPostgres();
    const postgres = (async (): Promise<{
      db: RunDatabase;
      proxy: FaultProxy;
      target: { host: string; port: number };
    }> => {
      let adminUrl = opts.databaseUrl;
      let pg: { port: number } | undefined;
      const warm = adminUrl ? undefined : await warmUp;
      if (warm) {
        // `sandbox services up`: a private cluster kept between runs; the run still gets its own database.
        pg = warm;
        const warmUrl = warm.adminUrl;
        adminUrl = warmUrl;
        sweeping(`databases ${warmUrl}`, () =>
          Promise.all([sweepOrphanDatabases(warmUrl), sweepSpareDatabases(warmUrl)]),
        );
      } else if (!adminUrl) {
        opts.onProgress?.('Starting Postgres...');
        const started: PrivatePostgres = await timed(opts.onTiming, 'services.postgres', () =>
          startPrivatePostgres(),
        );
        pgCleanups.push(() => started.stop());
        pg = started;
        adminUrl = started.adminUrl;
      } else {
        const givenUrl = adminUrl;
        sweeping(`databases ${givenUrl}`, () => sweepOrphanDatabases(givenUrl));
      }
      const runAdminUrl = adminUrl;
      const db = await timed(opts.onTiming, 'services.database', async () => {
        // The warm cluster keeps run databases made ahead: a run takes one, and one is made again.
        const spare = warm ? await claimSpareDatabase(runAdminUrl) : undefined;
        if (warm) background.push(refillSpareDatabases(runAdminUrl, WARM_SPARES).catch(() => 0));
        // Private clusters (per run or warm) run with fsync off: FILE_COPY is the fast clone there.
        return spare ?? createRunDatabase(runAdminUrl, { fileCopy: pg !== undefined });
      });
      pgCleanups.push(() => db.drop());
      const target = pg ? { host: '127.0.0.1', port: pg.port } : hostPort(adminUrl, 5432);
      const proxy = await startFaultProxy(target);
      pgCleanups.push(() => proxy.close());
      return { db, proxy, target };
    })();
    const redis = (async (): Promise<{ url: string; proxy: FaultProxy; own: boolean }> => {
      let url = opts.redisUrl;
      const own = !url;
      if (!url) {
        const warm = await warmUp;
        const keeper = warm?.start ? { pid: warm.pid, start: warm.start } : undefined;
        const r: PrivateRedis = await timed(opts.onTiming, 'services.redis', async () => {
          // A spare the warm Postgres keeps, untouched, becomes this run's own server; else one starts.
          const spare = keeper ? await claimSpareRedis(keeper) : undefined;
          if (keeper) background.push(refillSpareRedis(keeper).catch(() => 0));
          if (spare) return spare;
          opts.onProgress?.('Starting Redis...');
          return startPrivateRedis();
        });
        redisCleanups.push(() => r.stop());
        url = r.url;
      }
      const proxy = await startFaultProxy(hostPort(url, 6379));
      redisCleanups.push(() => proxy.close());
      return { url, proxy, own };
    })();
    const mail = timed(opts.onTiming, 'services.mail', () => startMailSink()).then((m) => {
      cleanups.push(() => m.close());
      return m;
    });
    // Wait for all three, so a failure in one never leaves another half-started behind.
    const settled = await Promise.allSettled([postgres, redis, mail]);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const [pgPart, redisPart, mailPart] = await Promise.all([postgres, redis, mail]);
    const redisInspector = createRedisInspector(redisPart.url);
    cleanups.push(() => redisInspector.close());
    const pgTarget = pgPart.db;
    const redisTarget = hostPort(redisPart.url, 6379);
    /** Instance proxies still open: closed with the run when a caller did not. */
    const instanceProxies = new Set<FaultProxy>();
    cleanups.push(async () => {
      await Promise.all([...instanceProxies].map((p) => p.close()));
      instanceProxies.clear();
    });
    /** redis-server's default number of databases; the run's own is 0. */
    const REDIS_DATABASES = 16;
    let nextRedisDb = 1;
    const instanceInspectors = new Set<ClosableRedisInspector>();
    cleanups.push(async () => {
      await Promise.all([...instanceInspectors].map((i) => i.close()));
      instanceInspectors.clear();
    });
    const startInstanceProxies = async (): Promise<InstanceProxies> => {
      const started = await Promise.allSettled([
        startFaultProxy(pgPart.target),
        startFaultProxy(redisTarget),
      ]);
      const proxies = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      for (const p of proxies) instanceProxies.add(p);
      const close = async (): Promise<void> => {
        await Promise.all(proxies.map((p) => p.close()));
        for (const p of proxies) instanceProxies.delete(p);
      };
      const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) {
        await close();
        throw failed.reason;
      }
      const [pg, redis] = proxies as [FaultProxy, FaultProxy];
      return {
        appDatabaseUrl: pgTarget.appUrl('127.0.0.1', pg.port),
        appRedisUrl: redisUrlThrough(redisPart.url, redis.port),
        ports: [pg.port, redis.port],
        faults: { database: pg.toggle, redis: redis.toggle },
        close,
      };
    };
    return {
      appDatabaseUrl: pgTarget.appUrl('127.0.0.1', pgPart.proxy.port),
      appRedisUrl: redisUrlThrough(redisPart.url, redisPart.proxy.port),
      mail: mailPart,
      db: pgTarget.inspector,
      redis: redisInspector,
      faults: { database: pgPart.proxy.toggle, redis: redisPart.proxy.toggle },
      databaseName: pgTarget.name,
      startInstanceProxies,
      claimRedisDatabase: () =>
        redisPart.own && nextRedisDb < REDIS_DATABASES ? nextRedisDb++ : undefined,
      redisInspector: (index) => {
        const url = new URL(redisPart.url);
        url.pathname = `/${index}`;
        const inspector = createRedisInspector(url.toString());
        const close = async (): Promise<void> => {
          instanceInspectors.delete(inspector);
          await inspector.close();
        };
        instanceInspectors.add(inspector);
        return { call: (...args) => inspector.call(...args), close };
      },
      // The run's own services first; then what it started for later runs (a process must not
      // exit with a spare half made).
      dispose: async () => {
        await timed(opts.onTiming, 'services.teardown', teardown);
        await timed(opts.onTiming, 'services.background', () => Promise.all(background.splice(0)));
      },
    };
  } catch (e) {
    await undo();
    throw e;
  }
}
