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
  dispose(): Promise<void>;
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
    const postgres = (async (): Promise<{ db: RunDatabase; proxy: FaultProxy }> => {
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
      return { db, proxy };
    })();
    const redis = (async (): Promise<{ url: string; proxy: FaultProxy }> => {
      let url = opts.redisUrl;
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
      return { url, proxy };
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
    return {
      appDatabaseUrl: pgTarget.appUrl('127.0.0.1', pgPart.proxy.port),
      appRedisUrl: redisUrlThrough(redisPart.url, redisPart.proxy.port),
      mail: mailPart,
      db: pgTarget.inspector,
      redis: redisInspector,
      faults: { database: pgPart.proxy.toggle, redis: redisPart.proxy.toggle },
      databaseName: pgTarget.name,
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
