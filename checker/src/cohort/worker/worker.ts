import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { pidAlive } from '../../services/local-postgres';
import os from 'node:os';
import path from 'node:path';
import { Worker, type Job } from 'bullmq';
import { DEFAULT_LIMITS, ArchiveError } from '../archive/limits';
import { readArchive } from '../archive/read-archive';
import { writeArchiveFiles } from '../archive/write-files';
import { QUEUE_NAME, redisConnection, type GradeJobData } from '../queue/grading-queue';
import { createDb, migrateLatest, type Db } from '../store/db';
import { recordResult } from '../store/results.repository';
import { archiveOf, claimSubmission, type Submission } from '../store/submissions.repository';
import type { RunResult } from '../../results/types';
import { runGrade, SpareGradingChildren, type GradeOutcome } from './run-grade';
import {
  chooseWorkerRuntime,
  gradingServices,
  type GradingServices,
  type GradingServicesLease,
  type WorkerRuntime,
  type WorkerRuntimeChoice,
} from './worker-runtime';

export interface WorkerOptions {
  databaseUrl: string;
  redisUrl: string;
  concurrency: number;
  /** auto (the default): the process runtime where it contains runs on this machine, else containers. */
  runtime?: WorkerRuntimeChoice;
  log: (message: string) => void;
  queuePrefix?: string;
  /** How long a job's lock lasts without renewal: a SIGKILLed worker's job is taken over after about this long. */
  lockMs?: number;
  /** A grading's own time limit. */
  gradeTimeoutSeconds?: number;
  /** How long SIGTERM waits for the gradings in hand before stopping them (they are then graded again elsewhere). */
  drainMs?: number;
}

/** Infrastructure trouble: BullMQ retries the job with backoff (the learner's code is not to blame). */
class InfrastructureError extends Error {}

const workerName = (): string => `${os.hostname()}:${process.pid}`;

function errorResult(
  submission: Submission,
  runtime: WorkerRuntime,
  code: string,
  message: string,
): RunResult {
  return {
    schemaVersion: 1,
    status: 'error',
    score: 0,
    maxScore: 0,
    workspace: `submission ${submission.id}`,
    startedAt: new Date().toISOString(),
    durationMs: 0,
    services: 'auto',
    runtime: { kind: runtime, contained: true, reason: 'no learner code ran' },
    steps: [],
    error: { code, message },
  };
}

const SUBMISSION_DIR_PREFIX = 'sandbox-submission-';

/** Removes the submission folders of workers on this machine that died without cleaning up. */
async function sweepDeadWorkersFolders(): Promise<void> {
  for (const name of await readdir(os.tmpdir()).catch(() => [] as string[])) {
    const pid = Number(/^sandbox-submission-(\d+)-/.exec(name)?.[1]);
    if (pid && pid !== process.pid && !pidAlive(pid))
      await rm(path.join(os.tmpdir(), name), { recursive: true, force: true }).catch(
        () => undefined,
      );
  }
}

/** A BullMQ worker on the grading queue; stop() lets gradings in hand finish (up to drainMs), then hands them back. */
export async function startWorker(
  opts: WorkerOptions,
): Promise<{ stop(): Promise<void>; name: string; runtime: WorkerRuntime }> {
  const { runtime, why } = chooseWorkerRuntime(opts.runtime ?? 'auto');
  const db = createDb(opts.databaseUrl, Math.max(4, opts.concurrency + 2));
  await migrateLatest(db);
  await sweepDeadWorkersFolders();
  const name = workerName();
  const stopping = new AbortController();
  const services = gradingServices(runtime, opts.concurrency);
  services.warmUp();
  // A grading child per slot, started ahead (Node.js and the checker loaded before the job comes).
  const children = new SpareGradingChildren(opts.concurrency);
  children.fill();
  const slots = { inHand: 0, freeSince: Date.now() };
  const lockMs = opts.lockMs ?? Number(process.env['SANDBOX_WORKER_LOCK_MS'] ?? 30_000);
  const worker = new Worker<GradeJobData>(
    QUEUE_NAME,
    async (job) => {
      // Queue pickup: from when the job could be taken (queued, and a slot of this worker free) to now.
      // (A retry waited on purpose: not counted.)
      const pickupMs =
        job.attemptsMade === 0 ? Date.now() - Math.max(job.timestamp, slots.freeSince) : undefined;
      slots.inHand++;
      try {
        return await gradeJob(
          db,
          job,
          { ...opts, name, runtime },
          services,
          children,
          stopping.signal,
          pickupMs,
        );
      } finally {
        slots.inHand--;
        slots.freeSince = Date.now();
      }
    },
    {
      connection: redisConnection(opts.redisUrl, true),
      concurrency: opts.concurrency,
      lockDuration: lockMs,
      stalledInterval: Math.max(1000, Math.floor(lockMs / 2)),
      maxStalledCount: 3,
      ...(opts.queuePrefix ? { prefix: opts.queuePrefix } : {}),
    },
  );
  worker.on('error', () => undefined); // Redis away: the worker reconnects by itself
  // A job whose lock was not renewed in time (its worker died, or stalled under load) goes back to the queue.
  worker.on('stalled', (jobId) =>
    opts.log(`submission ${jobId}: attempt lost (its lock expired), queued again`),
  );
  worker.on('failed', (job, e) => {
    if (job)
      opts.log(
        `submission ${job.data.submissionId}: attempt ${job.attemptsMade} failed (${e.message})`,
      );
  });
  await worker.waitUntilReady();
  opts.log(`worker ${name}: ${runtime} runtime (${why}); services: ${services.description}`);
  opts.log(`worker ${name} takes jobs from ${QUEUE_NAME} (concurrency ${opts.concurrency})`);
  return {
    name,
    runtime,
    stop: async () => {
      const drain = setTimeout(() => stopping.abort(), opts.drainMs ?? 120_000);
      await worker.close();
      clearTimeout(drain);
      children.stop();
      await services.stop();
      await db.destroy();
    },
  };
}

async function gradeJob(
  db: Db,
  job: Job<GradeJobData>,
  opts: WorkerOptions & { name: string; runtime: WorkerRuntime },
  services: GradingServices,
  children: SpareGradingChildren,
  stopping: AbortSignal,
  pickupMs: number | undefined,
): Promise<string> {
  const t0 = performance.now();
  const submission = await claimSubmission(db, job.data.submissionId, opts.name);
  if (!submission) return 'already graded';
  const claimed = performance.now();
  const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  const record = (result: RunResult, exitCode: number, durationMs: number): Promise<boolean> =>
    recordResult(db, submission, result, {
      worker: opts.name,
      exitCode,
      // The runtime the checker reports it used (the worker's own when no learner code ran).
      runtime: result.runtime?.kind ?? opts.runtime,
      contained: result.runtime?.contained ?? null,
      durationMs,
    });
  const refuse = (code: string, message: string): RunResult =>
    errorResult(submission, opts.runtime, code, message);
  // The worker's pid in the name: a worker that was SIGKILLed leaves its folder to the next worker's sweep.
  const dir = await mkdtemp(path.join(os.tmpdir(), `${SUBMISSION_DIR_PREFIX}${process.pid}-`));
  try {
    const archive = await archiveOf(db, submission.id);
    if (!archive) throw new InfrastructureError('the submission has no stored archive');
    const workspace = path.join(dir, 'workspace');
    try {
      await writeArchiveFiles(workspace, await readArchive(archive, DEFAULT_LIMITS));
    } catch (e) {
      if (!(e instanceof ArchiveError)) throw e;
      await record(refuse(e.code, e.message), 2, 0);
      return 'refused archive';
    }
    const unpacked = performance.now();
    const started = performance.now();
    let lease: GradingServicesLease;
    try {
      lease = await services.take();
    } catch (e) {
      const message = `the worker's services for the grading: ${(e as Error).message}`;
      if (!lastAttempt) throw new InfrastructureError(message);
      await record(refuse('SERVICES_FAILED', message), 2, 0);
      return 'error';
    }
    let outcome: GradeOutcome;
    try {
      outcome = await runGrade(
        {
          workspace,
          upToStep: submission.upToStep,
          runtime: opts.runtime,
          timeoutSeconds: opts.gradeTimeoutSeconds ?? 600,
          out: path.join(dir, 'result.json'),
        },
        lease.urls,
        stopping,
        children,
      );
    } finally {
      lease.release();
    }
    const durationMs = performance.now() - started;
    if (stopping.aborted)
      throw new InfrastructureError('the worker stopped during the grading; it is graded again');
    let result = outcome.result;
    let exitCode = outcome.exitCode;
    // The checker refuses uncontained runs (requireContained); this is the second lock of that door.
    if (result && result.runtime?.contained === false) {
      result = refuse(
        'UNCONTAINED',
        'the checker could not contain the run; cohort grading only records contained runs',
      );
      exitCode = 2;
    }
    const infrastructure = !result || exitCode === 2 || exitCode > 2;
    if (infrastructure && !lastAttempt)
      throw new InfrastructureError(
        result?.error
          ? `${result.error.code}: ${result.error.message}`
          : `the checker exited ${exitCode}: ${outcome.stderrTail.trim().split('\n').pop() ?? ''}`,
      );
    const graded = performance.now();
    await record(
      result ??
        refuse(
          'CHECKER_CRASHED',
          `the checker exited ${exitCode} without a result: ${outcome.stderrTail.trim().slice(-500)}`,
        ),
      exitCode > 2 ? 2 : exitCode,
      durationMs,
    );
    const stored = performance.now();
    // Where a submission's time goes outside the checker's own run (bench:cohort reads this line).
    const checkerMs = result?.timings?.['total'];
    const ms = (n: number | undefined): number | string => (n === undefined ? '?' : Math.round(n));
    opts.log(
      `submission ${submission.id}: ${result?.status ?? 'error'} in ${(durationMs / 1000).toFixed(1)} s (${result?.runtime?.kind ?? opts.runtime} runtime); ` +
        `outside the grading: pickup ${ms(pickupMs)} ms, claim ${ms(claimed - t0)} ms, unpack ${ms(unpacked - claimed)} ms, ` +
        `services ${ms(outcome.spawnedAt - started)} ms, child start and exit ${ms(checkerMs === undefined ? undefined : outcome.exitedAt - outcome.spawnedAt - checkerMs)} ms, store ${ms(stored - graded)} ms`,
    );
    return result?.status ?? 'error';
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
