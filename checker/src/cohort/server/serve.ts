import { randomBytes } from 'node:crypto';
import { DEFAULT_LIMITS } from '../archive/limits';
import {
  defaultDataDir,
  embeddedSessionSecret,
  startEmbeddedPostgres,
  startEmbeddedRedis,
} from './embedded';
import { ensureFirstMentor } from './first-mentor';
import { startCohortService } from './start';
import type { WorkerRuntimeChoice } from '../worker/worker-runtime';

export interface ServeFlags {
  port: number;
  host: string;
  data?: string;
  /** undefined: a worker in-process when Redis is embedded (nothing else can reach it). */
  worker?: boolean;
  concurrency: number;
  /** The in-process worker's runtime (auto: process where it contains runs here, else container). */
  runtime: WorkerRuntimeChoice;
}

interface Stoppable {
  name: string;
  stop(): Promise<void>;
}

/**
 * `sandbox serve`: DATABASE_URL / REDIS_URL when set, else an embedded Postgres (kept in the
 * data folder) and a private Redis; migrations; the HTTP service; the first mentor; a worker.
 * Resolves once the service is up; SIGINT/SIGTERM stop everything in reverse order.
 */
export async function runServe(flags: ServeFlags): Promise<void> {
  const say = (m: string): void => void process.stdout.write(`${m}\n`);
  const stack: Stoppable[] = [];
  const stopAll = async (): Promise<void> => {
    for (const s of stack.splice(0).reverse())
      await s.stop().catch((e: unknown) => say(`(stopping ${s.name}: ${String(e)})`));
  };
  try {
    const dataDir = flags.data ?? defaultDataDir();
    let databaseUrl = process.env['DATABASE_URL'];
    let redisUrl = process.env['REDIS_URL'];
    const embedded = { postgres: !databaseUrl, redis: !redisUrl };
    if (embedded.postgres || embedded.redis) say(`Embedded services; data kept in ${dataDir}`);
    if (!databaseUrl) {
      const pg = await startEmbeddedPostgres(dataDir);
      stack.push({ name: 'postgres', stop: pg.stop });
      databaseUrl = pg.url;
      say(`  Postgres: ${dataDir}/postgres (socket in ${dataDir}/sock)`);
    }
    if (!redisUrl) {
      const redis = await startEmbeddedRedis();
      stack.push({ name: 'redis', stop: redis.stop });
      redisUrl = redis.url;
      say(`  Redis: ${redis.url} (private; the queue is rebuilt from Postgres after a restart)`);
    }
    const sessionSecret =
      process.env['SANDBOX_SESSION_SECRET'] ??
      (embedded.postgres
        ? await embeddedSessionSecret(dataDir)
        : randomBytes(32).toString('base64url'));
    if (sessionSecret.length < 32)
      throw new Error('SANDBOX_SESSION_SECRET must be at least 32 characters');
    if (!process.env['SANDBOX_SESSION_SECRET'] && !embedded.postgres)
      say('(no SANDBOX_SESSION_SECRET: dashboard sessions end when the service restarts)');
    const service = await startCohortService({
      databaseUrl,
      redisUrl,
      port: flags.port,
      host: flags.host,
      limits: DEFAULT_LIMITS,
      sessionSecret,
      // The same variable `sandbox worker` reads: service and workers must name the same queue.
      ...(process.env['SANDBOX_QUEUE_PREFIX']
        ? { queuePrefix: process.env['SANDBOX_QUEUE_PREFIX'] }
        : {}),
    });
    stack.push({ name: 'service', stop: service.stop });
    const firstMentor = await ensureFirstMentor(service.db);
    if (firstMentor) say(firstMentor);
    const withWorker = flags.worker ?? embedded.redis;
    let workerRuntime = '';
    if (withWorker) {
      // Loaded only when used: a service without a worker never loads BullMQ's Worker or the runner.
      const { startWorker } = require('../worker/worker') as typeof import('../worker/worker');
      const worker = await startWorker({
        databaseUrl,
        redisUrl,
        concurrency: flags.concurrency,
        runtime: flags.runtime,
        log: say,
        ...(process.env['SANDBOX_QUEUE_PREFIX']
          ? { queuePrefix: process.env['SANDBOX_QUEUE_PREFIX'] }
          : {}),
      });
      stack.push({ name: 'worker', stop: worker.stop });
      workerRuntime = worker.runtime;
    }
    const publicUrl = process.env['PUBLIC_URL'] ?? service.url;
    say('');
    say(
      `sandbox serve listens on ${service.url}${publicUrl !== service.url ? ` (public URL ${publicUrl})` : ''}`,
    );
    say(
      withWorker
        ? `  grading: ${flags.concurrency} worker slot(s) in this process, ${workerRuntime} runtime`
        : '  grading: start workers with `npx sandbox worker` (same DATABASE_URL and REDIS_URL)',
    );
    say(
      `  mentors: npx sandbox cohort create "NAME" --server ${publicUrl}   (signs in, prints the invite code)`,
    );
    say(`  dashboard: ${publicUrl}/dashboard   (sign in with a mentor's email and password)`);
    say(
      `  learners: npx sandbox join CODE --server ${publicUrl}, then in their workspace npm run sandbox -- submit --wait`,
    );
    say('  API: docs/cohort-api.md. Ctrl-C stops the service (the data stays).');
  } catch (e) {
    await stopAll();
    throw e;
  }
  let stopping = false;
  const onSignal = (): void => {
    if (stopping) process.exit(130);
    stopping = true;
    say('Stopping (Ctrl-C again to quit at once)...');
    void stopAll().then(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
