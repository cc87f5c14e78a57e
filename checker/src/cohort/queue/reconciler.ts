import type { Db } from '../store/db';
import { unfinishedSubmissions, waitingOfLearner } from '../store/submissions.repository';
import type { GradingQueue } from './grading-queue';

/** A submission younger than this is left alone: its own request is still queueing it. */
const GRACE_MS = 3000;

/**
 * Makes sure every submission without a result has a job: after Redis lost its data (a restart
 * without persistence), after an enqueue that failed while Redis was down, or after a job failed
 * for good while the result could not be stored. Returns how many it queued again.
 */
export async function reconcileOnce(db: Db, queue: GradingQueue): Promise<number> {
  const pending = await unfinishedSubmissions(db, new Date(Date.now() - GRACE_MS));
  let queued = 0;
  for (const s of pending) {
    const state = await queue.state(s.id);
    if (state && state !== 'completed' && state !== 'failed' && state !== 'unknown') continue;
    if (state) await queue.remove(s.id);
    await queue.enqueue(
      { submissionId: s.id, learnerId: s.learnerId },
      await waitingOfLearner(db, s.learnerId),
    );
    queued++;
  }
  return queued;
}

/** Runs reconcileOnce every `everyMs` (errors while Redis or Postgres are down are reported, then retried). */
export function startReconciler(
  db: Db,
  queue: GradingQueue,
  opts: { everyMs: number; onRequeued?: (n: number) => void; onError?: (e: unknown) => void },
): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running) return; // the previous pass is still at it (a slow or restarting Redis)
    running = reconcileOnce(db, queue)
      .then(
        (n) => void (n > 0 && opts.onRequeued?.(n)),
        (e: unknown) => opts.onError?.(e),
      )
      .finally(() => (running = undefined));
  }, opts.everyMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
