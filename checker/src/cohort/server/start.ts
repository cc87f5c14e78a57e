import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { loadStepsDir } from '../../course/paths';
import { defaultStepsDir } from '../../runner/steps';
import { DEFAULT_LIMITS, type ArchiveLimits } from '../archive/limits';
import { createGradingQueue, type GradingQueue } from '../queue/grading-queue';
import { startReconciler } from '../queue/reconciler';
import { createDb, migrateLatest, type Db } from '../store/db';
import { createCohortApp } from './app';

export interface ServiceConfig {
  databaseUrl: string;
  redisUrl: string;
  port: number;
  host: string;
  limits?: ArchiveLimits;
  /** BullMQ key prefix (tests give each run its own). */
  queuePrefix?: string;
  reconcileEveryMs?: number;
  eventPollMs?: number;
  sessionSecret?: string;
  /** Attempts and first backoff of a grading that failed for infrastructure reasons (default 5, 2 s). */
  gradeRetry?: { attempts: number; backoffMs: number };
  log?: (message: string) => void;
}

export interface RunningService {
  url: string;
  db: Db;
  queue: GradingQueue;
  stop(): Promise<void>;
}

/** Applies the migrations, builds the app, listens, and starts the reconciler; stop() undoes it in order. */
export async function startCohortService(config: ServiceConfig): Promise<RunningService> {
  const log = config.log ?? ((m: string) => void process.stderr.write(`${m}\n`));
  const db = createDb(config.databaseUrl);
  try {
    await migrateLatest(db);
  } catch (e) {
    await db.destroy();
    throw e;
  }
  const queue = createGradingQueue(config.redisUrl, {
    ...(config.queuePrefix ? { prefix: config.queuePrefix } : {}),
    ...(config.gradeRetry ? { retry: config.gradeRetry } : {}),
    onError: () => undefined, // reported per request (503s, health) instead of a log line per retry
  });
  // The sign-in limits' counters: shared by every service process; a command fails at once while Redis is away.
  const countersRedis = new Redis(config.redisUrl, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (times: number) => Math.min(times * 200, 2000),
  });
  countersRedis.on('error', () => undefined);
  const steps = loadStepsDir(defaultStepsDir()).map(({ number, slug, title }) => ({
    number,
    slug,
    title,
  }));
  const app = createCohortApp({
    db,
    queue,
    steps,
    limits: config.limits ?? DEFAULT_LIMITS,
    log,
    counters: {
      redis: countersRedis,
      prefix: `sandbox-cohort:${config.queuePrefix ? `${config.queuePrefix}:` : ''}`,
    },
    ...(config.eventPollMs ? { eventPollMs: config.eventPollMs } : {}),
    ...(config.sessionSecret ? { sessionSecret: config.sessionSecret } : {}),
  });
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
    s.once('error', reject);
  });
  const reconciler = startReconciler(db, queue, {
    everyMs: config.reconcileEveryMs ?? 5000,
    onRequeued: (n) =>
      log(`queued ${n} submission(s) again that had no job (Redis restarted or was down)`),
    onError: () => undefined,
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    db,
    queue,
    stop: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // event streams never end by themselves
      });
      await reconciler.stop();
      await queue.close().catch(() => undefined);
      countersRedis.disconnect();
      await db.destroy();
    },
  };
}
