import { Queue, type ConnectionOptions } from 'bullmq';

export const QUEUE_NAME = 'sandbox-grading';

/** A job names a submission; everything else (archive, learner, steps) is read from Postgres. */
export interface GradeJobData {
  submissionId: string;
  learnerId: string;
}

/** Infrastructure failures (the checker's exit 2) are retried this many times in all, with exponential backoff. */
export const GRADE_ATTEMPTS = 5;
export const GRADE_BACKOFF_MS = 2000;
/** How long adding a job may take before the submission is left to the reconciler (Redis down). */
const ENQUEUE_TIMEOUT_MS = 1500;

export interface GradingQueue {
  /**
   * Adds the submission's job (the job id is the submission id: adding twice is one job).
   * `waiting` is how many of this learner's submissions wait: each one more lowers the
   * priority, so one learner's fifty submissions do not hold back another learner's first.
   */
  enqueue(job: GradeJobData, waiting: number): Promise<void>;
  /** The job's state, or undefined when Redis has no such job. */
  state(submissionId: string): Promise<string | undefined>;
  /** Removes a finished (completed or failed) job so the submission can be queued again. */
  remove(submissionId: string): Promise<void>;
  counts(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export function redisConnection(redisUrl: string, forWorker: boolean): ConnectionOptions {
  const u = new URL(redisUrl);
  return {
    host: u.hostname || '127.0.0.1',
    port: Number(u.port || 6379),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.pathname.length > 1 ? { db: Number(u.pathname.slice(1)) } : {}),
    // Workers block on Redis and must wait for it; the service must fail fast (and answer) when it is down.
    maxRetriesPerRequest: forWorker ? null : 1,
    enableOfflineQueue: forWorker,
    retryStrategy: (times: number) => Math.min(times * 200, 2000),
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

export function createGradingQueue(
  redisUrl: string,
  opts: {
    prefix?: string;
    onError?: (e: Error) => void;
    /** Attempts and first backoff for infrastructure failures (tests shorten them). */
    retry?: { attempts: number; backoffMs: number };
  } = {},
): GradingQueue {
  const queue = new Queue<GradeJobData>(QUEUE_NAME, {
    connection: redisConnection(redisUrl, false),
    ...(opts.prefix ? { prefix: opts.prefix } : {}),
  });
  queue.on('error', (e) => opts.onError?.(e));
  return {
    enqueue: async (job, waiting) => {
      await withTimeout(
        queue.add('grade', job, {
          jobId: job.submissionId,
          priority: Math.min(1 + waiting, 2_000_000),
          attempts: opts.retry?.attempts ?? GRADE_ATTEMPTS,
          backoff: { type: 'exponential', delay: opts.retry?.backoffMs ?? GRADE_BACKOFF_MS },
          removeOnComplete: { age: 24 * 3600, count: 5000 },
          removeOnFail: { age: 7 * 24 * 3600 },
        }),
        ENQUEUE_TIMEOUT_MS,
        'queueing the submission',
      );
    },
    state: async (submissionId) => {
      const job = await withTimeout(
        queue.getJob(submissionId),
        ENQUEUE_TIMEOUT_MS,
        'reading the job',
      );
      if (!job) return undefined;
      return job.getState();
    },
    remove: async (submissionId) => {
      await withTimeout(queue.remove(submissionId), ENQUEUE_TIMEOUT_MS, 'removing the job');
    },
    counts: () =>
      withTimeout(
        queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed'),
        ENQUEUE_TIMEOUT_MS,
        'counting jobs',
      ),
    close: () => queue.close(),
  };
}
