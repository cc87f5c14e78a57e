import { startWorker } from './worker';
import type { WorkerRuntimeChoice } from './worker-runtime';

/** `sandbox worker`: takes grading jobs until SIGTERM/SIGINT, which finishes the gradings in hand (or hands them back after the drain time). */
export async function runWorker(flags: {
  concurrency: number;
  drainSeconds: number;
  runtime: WorkerRuntimeChoice;
}): Promise<void> {
  const databaseUrl = process.env['DATABASE_URL'];
  const redisUrl = process.env['REDIS_URL'];
  if (!databaseUrl || !redisUrl)
    throw new Error(
      "a worker needs the service's DATABASE_URL and REDIS_URL (the embedded `sandbox serve` runs its own worker)",
    );
  const say = (m: string): void => void process.stderr.write(`${m}\n`);
  const worker = await startWorker({
    databaseUrl,
    redisUrl,
    concurrency: flags.concurrency,
    runtime: flags.runtime,
    drainMs: flags.drainSeconds * 1000,
    log: say,
    ...(process.env['SANDBOX_QUEUE_PREFIX']
      ? { queuePrefix: process.env['SANDBOX_QUEUE_PREFIX'] }
      : {}),
  });
  let stopping = false;
  const onSignal = (signal: string): void => {
    if (stopping) process.exit(130);
    stopping = true;
    say(`${signal}: finishing the gradings in hand (up to ${flags.drainSeconds} s), then stopping`);
    void worker.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
}
