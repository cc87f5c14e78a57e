import path from 'node:path';
import { installBridge, removeBridge, type RunBridge } from '../harness/bridge';
import {
  buildResult,
  checkerErrorResult,
  outcomeKey,
  type RunHeader,
  type Collected,
} from '../results/build';
import type { CheckResult, RunResult, ServicesMode, TypeCheckResult } from '../results/types';
import { InOrderProgress } from './check-progress';
import { runCheckFiles } from './jest';
import { isSetupError, type PreparedRun, type PrepareRun } from './run-types';
import { CheckScheduler } from './scheduler';
import { loadStepsDir } from '../course/paths';
import { defaultStepsDir, selectSteps, stepOfFile, type StepDefinition } from './steps';
import { Timings } from './timings';
import { DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT_SECONDS } from './defaults';

/** After a stop (time limit, Ctrl-C), how long remaining checks get to report "not run" before we give up on jest. */
const STOP_GRACE_MS = 3000;

export interface GradeOptions {
  workspace: string;
  step?: string;
  only?: boolean;
  stepsDir?: string;
  services?: ServicesMode;
  runtime?: 'process' | 'container';
  databaseUrl?: string;
  redisUrl?: string;
  timeoutSeconds?: number;
  /** Batch grading of others' work: refuse (exit 2) when the run cannot be contained. */
  requireContained?: boolean;
  /** Type-check the workspace beside the checks and report its errors (not graded). */
  typeCheck?: boolean;
  /** Concurrent checks at once (default DEFAULT_CONCURRENCY); 1 runs every check alone, in order. */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
  onCheck?: (step: StepDefinition, check: CheckResult) => void;
}

/** Grades a workspace: selects steps, prepares the run, runs the check files, disposes, and returns the result. */
export async function grade(opts: GradeOptions, prepare: PrepareRun): Promise<RunResult> {
  const started = { at: new Date(), ms: performance.now() };
  const stepsDir = path.resolve(opts.stepsDir ?? defaultStepsDir());
  const steps = selectSteps(loadStepsDir(stepsDir), opts.step, opts.only);
  const header: RunHeader = {
    workspace: opts.workspace,
    services: opts.services ?? 'auto',
    started,
    runtime: {
      kind: opts.runtime ?? 'process',
      contained: false,
      reason: 'setup stopped before the runtime was chosen: none of the workspace’s code ran',
    },
  };
  const stop = stopController(opts.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS, opts.signal);
  let run: PreparedRun | undefined;
  let setupFailure: RunBridge['setupFailure'] = null;
  const timings = new Timings();
  let result: RunResult | undefined;
  const setupStarted = performance.now();
  // jest starts as the app starts (onAppStarting), or once the set-up has ended without it: its
  // loading keeps this thread busy for a few hundred milliseconds, which the app's start hides and
  // the set-up's own steps (the workspace's build and type check, the services) would wait for.
  // No check begins before the set-up ends.
  let checks: ChecksRun | undefined;
  let jestFailure: unknown;
  const startJest = (): ChecksRun => (checks ??= startChecks(steps, stepsDir, stop, opts, timings));
  const preparing = (async () =>
    prepare({
      workspace: opts.workspace,
      services: header.services,
      ...(opts.runtime ? { runtime: opts.runtime } : {}),
      ...(opts.databaseUrl ? { databaseUrl: opts.databaseUrl } : {}),
      ...(opts.redisUrl ? { redisUrl: opts.redisUrl } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      ...(opts.requireContained ? { requireContained: true } : {}),
      ...(opts.typeCheck ? { typeCheck: true } : {}),
      onRuntime: (runtime) => (header.runtime = runtime),
      onTiming: timings.record,
      onAppStarting: () => {
        try {
          startJest();
        } catch (e) {
          jestFailure = e;
        }
      },
      signal: stop.signal,
    }))();
  try {
    try {
      run = await preparing;
    } catch (e) {
      if (stop.reason())
        return (result = checkerErrorResult(
          header,
          'STOPPED',
          `stopped while setting up: ${stop.reason()}`,
        ));
      if (!isSetupError(e) || e.kind === 'checker') {
        const code = isSetupError(e) ? e.code : 'SETUP_FAILED';
        return (result = checkerErrorResult(
          header,
          code,
          e instanceof Error ? e.message : String(e),
          isSetupError(e) ? e.logs : undefined,
        ));
      }
      setupFailure = { message: e.message, ...(e.logs ? { logs: e.logs } : {}) };
      opts.onProgress?.(`The app could not be set up: ${e.message}`);
    } finally {
      timings.record('setup', performance.now() - setupStarted);
    }
    if (jestFailure !== undefined) throw jestFailure;
    const collected = await startJest().begin(run, setupFailure);
    // The apps and the services end while the type check finishes; dispose() waits for them.
    void run?.release?.();
    const typeCheck = await typeCheckOf(run, timings, opts.onProgress);
    result = buildResult(header, steps, collected, stop.reason());
    if (setupFailure) result.setupFailure = setupFailure;
    if (typeCheck) result.typeCheck = typeCheck;
    return result;
  } finally {
    // A run that could not be graded still lets jest end (every check reports "not run") before it returns.
    await checks?.cancel('the run could not be set up');
    stop.clear();
    const disposeStarted = performance.now();
    if (run) opts.onProgress?.('Stopping the app and the services...');
    await run?.dispose();
    timings.record('dispose', performance.now() - disposeStarted);
    if (result) {
      timings.record('total', performance.now() - started.ms);
      result.timings = timings.snapshot();
    }
  }
}

/** The type check the run started beside the checks; what the report waited for it is timed as typecheck.wait. */
async function typeCheckOf(
  run: PreparedRun | undefined,
  timings: Timings,
  onProgress?: (message: string) => void,
): Promise<TypeCheckResult | undefined> {
  const pending = run?.typeCheck?.();
  if (!pending) return undefined;
  let done = false;
  void pending.finally(() => (done = true));
  await Promise.resolve(); // a settled type check (cached, or done during the checks) is not waited for
  if (!done) onProgress?.('Waiting for the type check (tsc --noEmit)...');
  const started = performance.now();
  const result = await pending;
  timings.record('typecheck.wait', performance.now() - started);
  return result;
}

/** The run's checks under jest, started before the run is set up (see startChecks). */
interface ChecksRun {
  /** Lets the checks run against the prepared run (or fail with the set-up's failure); resolves when jest has finished. */
  begin(run: PreparedRun | undefined, setupFailure: RunBridge['setupFailure']): Promise<Collected>;
  /** Unless begin() was called: every check reports "not run", and this resolves once jest has finished. */
  cancel(reason: string): Promise<void>;
}

/**
 * Starts jest on the run's check files right away, with the scheduler held: jest's start-up and
 * the loading of the check files overlap the set-up, and no check is admitted before begin().
 */
function startChecks(
  steps: StepDefinition[],
  stepsDir: string,
  stop: StopController,
  opts: GradeOptions,
  timings: Timings,
): ChecksRun {
  const collected: Collected = {
    registrations: [],
    outcomes: new Map(),
    loadErrors: new Map(),
    jest: null,
  };
  let run: PreparedRun | undefined;
  let setupFailure: RunBridge['setupFailure'] = null;
  let cancelled: string | null = null;
  let begun = false;
  let checksStarted = 0;
  const jestStarted = performance.now();
  let firstRegistration: number | undefined;
  const afterCheck = async (): Promise<void> => run?.afterCheck?.();
  const scheduler = new CheckScheduler(opts.concurrency ?? DEFAULT_CONCURRENCY, afterCheck, {
    held: true,
    total: () => collected.registrations.length,
  });
  const progress = new InOrderProgress(steps, opts);
  const bridge: RunBridge = {
    get context() {
      return run?.context ?? null;
    },
    get setupFailure() {
      return setupFailure;
    },
    order: steps.flatMap((s) => s.checkFiles),
    beforeCheck: coalesced(async () => run?.ensureAppRunning?.()),
    afterCheck,
    schedule: (check, work) =>
      scheduler.schedule(check.concurrent, work, check.concurrent ? check.timeoutMs : 0, {
        last: check.stopsApp,
      }),
    retryAlone: (work) => scheduler.retryAlone(work),
    stopReason: () => cancelled ?? stop.reason(),
    register: (check) => {
      if (firstRegistration === undefined) {
        firstRegistration = performance.now();
        timings.record('jest.start', firstRegistration - jestStarted);
      }
      collected.registrations.push(check);
      progress.registered(check);
    },
    loadFailed: (file, message) => {
      collected.loadErrors.set(file, message);
    },
    report: (file, name, outcome) => {
      if (cancelled) return; // no result is built from a run that could not be set up
      collected.outcomes.set(outcomeKey(file, name), outcome);
      const step = stepOfFile(steps, file);
      if (step) timings.record(`step.${step.slug}`, outcome.durationMs);
      progress.reported(file, name, outcome);
    },
  };
  if (bridge.order.length === 0)
    return { begin: () => Promise.resolve(collected), cancel: () => Promise.resolve() };
  installBridge(globalThis, bridge);
  const jestRun = Promise.race([runCheckFiles(stepsDir), stop.stoppedThenGrace(STOP_GRACE_MS)]);
  const finished = jestRun
    .catch(() => null)
    .then(() => {
      timings.record('jest', performance.now() - jestStarted);
      if (begun) timings.record('checks', performance.now() - checksStarted);
      removeBridge(globalThis);
    });
  return {
    begin: async (prepared, failure) => {
      begun = true;
      run = prepared;
      setupFailure = failure;
      checksStarted = performance.now();
      scheduler.release();
      collected.jest = await jestRun;
      await finished;
      return collected;
    },
    cancel: async (reason) => {
      if (!begun && cancelled === null) {
        cancelled = reason;
        scheduler.release();
      }
      await finished;
    },
  };
}

/** Concurrent callers share the one call in flight (the app is restarted once, not once per check). */
function coalesced(fn: () => Promise<void>): () => Promise<void> {
  let inFlight: Promise<void> | null = null;
  return () =>
    (inFlight ??= fn().finally(() => {
      inFlight = null;
    }));
}

interface StopController {
  signal: AbortSignal;
  reason: () => string | null;
  /** Resolves null STOP_GRACE_MS after the run was stopped; never resolves otherwise. */
  stoppedThenGrace(ms: number): Promise<null>;
  clear(): void;
}

function stopController(timeoutSeconds: number, outer?: AbortSignal): StopController {
  const controller = new AbortController();
  let reason: string | null = null;
  const stopWith = (why: string): void => {
    if (reason) return;
    reason = why;
    controller.abort(new Error(why));
  };
  const timer = setTimeout(
    () => stopWith(`time limit of ${timeoutSeconds} s reached`),
    timeoutSeconds * 1000,
  );
  const onOuterAbort = (): void => stopWith('interrupted');
  if (outer?.aborted) onOuterAbort();
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  let graceTimer: NodeJS.Timeout | undefined;
  return {
    signal: controller.signal,
    reason: () => reason,
    stoppedThenGrace: (ms) =>
      new Promise((resolve) => {
        const arm = (): void => {
          graceTimer = setTimeout(() => resolve(null), ms);
        };
        if (controller.signal.aborted) arm();
        else controller.signal.addEventListener('abort', arm, { once: true });
      }),
    clear: () => {
      clearTimeout(timer);
      clearTimeout(graceTimer);
      outer?.removeEventListener('abort', onOuterAbort);
    },
  };
}
