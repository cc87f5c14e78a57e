import type { DbInspector, ServiceToggle } from '../harness/api';
import { startFaultProxy, type FaultProxy } from './fault-proxy';
import { startPrivatePostgres, sweepOrphanRuns, type PrivatePostgres } from './local-postgres';
import { startPrivateRedis, type PrivateRedis } from './local-redis';
import { startMailSink, type StartedMailSink } from './mail-sink';
import { createRedisInspector, type ClosableRedisInspector } from './redis-inspector';
import { createRunDatabase, sweepOrphanDatabases, type RunDatabase } from './run-database';
import { timed, type OnTiming } from '../runner/timings';
import { findWarmPostgres, WARM_SPARES } from './warm-postgres';
import { sweepInBackground } from './orphan-sweeps';

export interface LocalServicesOptions {
  /** Admin URL of a Postgres to create the run's database on; otherwise a private cluster is started. */
  databaseUrl?: string;
  /** A Redis to use as-is; otherwise a private redis-server is started. */
  redisUrl?: string;
  onProgress?: (message: string) => void;
  /** Phase durations: services.postgres, services.database, services.redis, services.proxies, services.mail. */
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
  const cleanups: (() => Promise<unknown>)[] = [];
  const undo = async (): Promise<void> => {
    const steps = cleanups.splice(0).reverse();
    for (const step of steps) await step().catch(() => undefined);
  };
  try {
    // What SIGKILLed checkers left (servers, run dirs, run databases) is swept in the background,
    // off this run's hot path; the run waits for the sweep when it ends, never when it starts.
    const sweeping = (key: string, sweep: () => Promise<unknown>): void => {
      const done = sweepInBackground(key, sweep);
      cleanups.push(() => done);
    };
    sweeping('runs', sweepOrphanRuns);
    const postgres = (async (): Promise<{ db: RunDatabase; proxy: FaultProxy }> => {
      let adminUrl = opts.databaseUrl;
      let pg: { port: number } | undefined;
      const warm = adminUrl ? undefined : await findWarmPostgres();
      if (warm) {
        // `sandbox services up`: a private cluster kept between runs; the run still gets its own database.
        pg = warm;
        const warmUrl = warm.adminUrl;
        adminUrl = warmUrl;
        sweeping(`databases ${warmUrl}`, () => sweepOrphanDatabases(warmUrl));
      } else if (!adminUrl) {
        opts.onProgress?.('Starting Postgres...');
        const started: PrivatePostgres = await timed(opts.onTiming, 'services.postgres', () =>
          startPrivatePostgres(),
        );
        cleanups.push(() => started.stop());
        pg = started;
        adminUrl = started.adminUrl;
      } else {
        const givenUrl = adminUrl;
        sweeping(`databases ${givenUrl}`, () => sweepOrphanDatabases(givenUrl));
      }
      const runAdminUrl = adminUrl;
      // Private clusters (per run or warm) run with fsync off: FILE_COPY is the fast clone there.
      // The warm cluster keeps spare clones ready, so a run takes one instead of waiting for a clone.
      const db = await timed(opts.onTiming, 'services.database', () =>
        createRunDatabase(runAdminUrl, {
          fileCopy: pg !== undefined,
          spares: warm ? WARM_SPARES : 0,
        }),
      );
      cleanups.push(() => db.drop());
      const target = pg ? { host: '127.0.0.1', port: pg.port } : hostPort(adminUrl, 5432);
      const proxy = await startFaultProxy(target);
      cleanups.push(() => proxy.close());
      return { db, proxy };
    })();
    const redis = (async (): Promise<{ url: string; proxy: FaultProxy }> => {
      let url = opts.redisUrl;
      if (!url) {
        opts.onProgress?.('Starting Redis...');
        const r: PrivateRedis = await timed(opts.onTiming, 'services.redis', () =>
          startPrivateRedis(),
        );
        cleanups.push(() => r.stop());
        url = r.url;
      }
      const proxy = await startFaultProxy(hostPort(url, 6379));
      cleanups.push(() => proxy.close());
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
    const ordered = cleanups.splice(0);
    return {
      appDatabaseUrl: pgTarget.appUrl('127.0.0.1', pgPart.proxy.port),
      appRedisUrl: redisUrlThrough(redisPart.url, redisPart.proxy.port),
      mail: mailPart,
      db: pgTarget.inspector,
      redis: redisInspector,
      faults: { database: pgPart.proxy.toggle, redis: redisPart.proxy.toggle },
      databaseName: pgTarget.name,
      // Proxies and clients first, then the run database, then the servers behind them.
      dispose: async () => {
        const last = ordered.reverse();
        for (const step of last) await step().catch(() => undefined);
      },
    };
  } catch (e) {
    await undo();
    throw e;
  }
}
