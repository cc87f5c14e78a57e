import path from 'node:path';
import { installBridge, removeBridge, type RunBridge } from '../harness/bridge';
import {
  buildResult,
  checkerErrorResult,
  outcomeKey,
  type RunHeader,
  type Collected,
} from '../results/build';
import type { CheckResult, RunResult, ServicesMode } from '../results/types';
import { InOrderProgress } from './check-progress';
import { runCheckFiles } from './jest';
import { isSetupError, type PreparedRun, type PrepareRun } from './run-types';
import { CheckScheduler } from './scheduler';
import { defaultStepsDir, loadSteps, selectSteps, stepOfFile, type StepDefinition } from './steps';
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
  const steps = selectSteps(loadSteps(stepsDir), opts.step, opts.only);
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
  try {
    const setupStarted = performance.now();
    try {
      run = await prepare({
        workspace: opts.workspace,
        services: header.services,
        ...(opts.runtime ? { runtime: opts.runtime } : {}),
        ...(opts.databaseUrl ? { databaseUrl: opts.databaseUrl } : {}),
        ...(opts.redisUrl ? { redisUrl: opts.redisUrl } : {}),
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
        ...(opts.requireContained ? { requireContained: true } : {}),
        onRuntime: (runtime) => (header.runtime = runtime),
        onTiming: timings.record,
        signal: stop.signal,
      });
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
    const collected = await runChecks(steps, stepsDir, run, setupFailure, stop, opts, timings);
    result = buildResult(header, steps, collected, stop.reason());
    if (setupFailure) result.setupFailure = setupFailure;
    return result;
  } finally {
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

async function runChecks(
  steps: StepDefinition[],
  stepsDir: string,
  run: PreparedRun | undefined,
  setupFailure: RunBridge['setupFailure'],
  stop: StopController,
  opts: GradeOptions,
  timings: Timings,
): Promise<Collected> {
  const collected: Collected = {
    registrations: [],
    outcomes: new Map(),
    loadErrors: new Map(),
    jest: null,
  };
  const jestStarted = performance.now();
  let firstRegistration: number | undefined;
  const afterCheck = async (): Promise<void> => run?.afterCheck?.();
  const scheduler = new CheckScheduler(opts.concurrency ?? DEFAULT_CONCURRENCY, afterCheck);
  const progress = new InOrderProgress(steps, opts);
  const bridge: RunBridge = {
    context: run?.context ?? null,
    setupFailure,
    order: steps.flatMap((s) => s.checkFiles),
    beforeCheck: coalesced(async () => run?.ensureAppRunning?.()),
    afterCheck,
    schedule: (concurrent, work) => scheduler.schedule(concurrent, work),
    retryAlone: (work) => scheduler.retryAlone(work),
    stopReason: stop.reason,
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
      collected.outcomes.set(outcomeKey(file, name), outcome);
      const step = stepOfFile(steps, file);
      if (step) timings.record(`step.${step.slug}`, outcome.durationMs);
      progress.reported(file, name, outcome);
    },
  };
  if (bridge.order.length === 0) return collected;
  installBridge(globalThis, bridge);
  try {
    collected.jest = await Promise.race([
      runCheckFiles(stepsDir),
      stop.stoppedThenGrace(STOP_GRACE_MS),
    ]);
  } finally {
    timings.record('jest', performance.now() - jestStarted);
    removeBridge(globalThis);
  }
  return collected;
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
