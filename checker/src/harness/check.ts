import { test } from '@jest/globals';
import type { CheckMeta } from './api';
import { readBridge, type CheckOutcome, type FileBridge, type RunBridge } from './bridge';
import { CheckFailure } from './failure';
import { classifyError } from '../results/failure';

export const DEFAULT_CHECK_TIMEOUT_MS = 15_000;
/** Extra time jest allows a check beyond its own timeout, for the after-check cleanup. */
const CLEANUP_GRACE_MS = 10_000;

function fileBridge(): FileBridge {
  const found = readBridge<FileBridge>(globalThis);
  if (!found)
    throw new Error('check files run through `npx sandbox check`, not through jest directly');
  return found;
}

/**
 * jest's own limit for a check. Every check is a jest concurrent test that waits for its turn in
 * the run's scheduler: the wait is bounded by the run's time limit, the check once admitted by
 * its timeout plus the cleanup grace (see admitted()), so jest's timer is only a last resort.
 */
const JEST_BACKSTOP_MS = 2 ** 31 - 1;

/** Registers one graded check: all of meta.points when fn resolves, none when it throws. */
export function check(name: string, meta: CheckMeta, fn: () => Promise<void>): void {
  const found = fileBridge();
  const { bridge } = found;
  const file = found.testPath; // read now: the entry file moves on to the next check file
  const timeoutMs = meta.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const concurrent = meta.concurrent === true;
  bridge.register({ file, name, points: meta.points, hint: meta.hint, timeoutMs, concurrent });
  test.concurrent(
    name,
    async () => {
      let outcome = await bridge
        .schedule({ concurrent, timeoutMs, stopsApp: meta.stopsApp === true }, () =>
          admitted(bridge, fn, timeoutMs, concurrent),
        )
        .catch(notRun);
      // A failure seen beside other checks may be theirs (an app they crashed or wedged): only a
      // check running alone gives a failing verdict, as in a serial run; a definite failure
      // (one no other check could have caused) is that verdict already.
      if (concurrent && outcome.status !== 'pass' && !outcome.definite && !bridge.stopReason())
        outcome = await bridge
          .retryAlone(() => admitted(bridge, fn, timeoutMs, false))
          .catch(notRun);
      bridge.report(file, name, outcome);
      if (outcome.status !== 'pass') throw new Error(outcome.message);
    },
    JEST_BACKSTOP_MS,
  );
}

const notRun = (e: unknown): CheckOutcome => ({
  status: 'error',
  message: `not run: ${e instanceof Error ? e.message : String(e)}`,
  durationMs: 0,
});

/** The check's turn: bounded by its timeout plus the cleanup grace, so a hung cleanup cannot hold the run. */
function admitted(
  bridge: RunBridge,
  fn: () => Promise<void>,
  timeoutMs: number,
  concurrent: boolean,
): Promise<CheckOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const limit = timeoutMs + CLEANUP_GRACE_MS;
  const overdue = new Promise<CheckOutcome>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({
          status: 'error',
          message: `the check and its cleanup did not finish within ${limit / 1000} s`,
          durationMs: limit,
        }),
      limit,
    );
  });
  return Promise.race([runCheck(bridge, fn, timeoutMs, concurrent), overdue]).finally(() =>
    clearTimeout(timer),
  );
}

async function runCheck(
  bridge: RunBridge,
  fn: () => Promise<void>,
  timeoutMs: number,
  concurrent: boolean,
): Promise<CheckOutcome> {
  const notRun = bridge.stopReason();
  if (notRun) return { status: 'error', message: `not run: ${notRun}`, durationMs: 0 };
  if (bridge.setupFailure) {
    // The run's result carries the setup's output once (RunResult.setupFailure); no check hint applies.
    const { message } = bridge.setupFailure;
    return { status: 'fail', message, durationMs: 0, details: { summary: message }, hint: '' };
  }
  const started = performance.now();
  let outcome: CheckOutcome;
  try {
    await bridge.beforeCheck();
    await withTimeout(fn(), timeoutMs);
    outcome = { status: 'pass', message: '', durationMs: 0 };
  } catch (e) {
    const { status, message, details, hint, definite } = classifyError(e);
    outcome = {
      status,
      message,
      durationMs: 0,
      details: withLogs(details, bridge, status),
      ...(hint ? { hint } : {}),
      ...(definite ? { definite } : {}),
    };
  }
  // A concurrent check leaves the clean-up to the scheduler: it runs once the checks beside it are done.
  if (!concurrent) {
    try {
      await bridge.afterCheck();
    } catch (e) {
      if (outcome.status === 'pass') {
        const message = `cleanup after the check failed: ${e instanceof Error ? e.message : String(e)}`;
        outcome = { status: 'error', message, durationMs: 0 };
      }
    }
  }
  const stopped = bridge.stopReason();
  if (stopped) return { status: 'error', message: `not finished: ${stopped}`, durationMs: 0 };
  return { ...outcome, durationMs: Math.round(performance.now() - started) };
}

function withLogs(
  details: CheckOutcome['details'],
  bridge: RunBridge,
  status: CheckOutcome['status'],
): CheckOutcome['details'] {
  if (status !== 'fail' || !details || !bridge.context) return details;
  const logs = bridge.context.app.logs().trim();
  return logs ? { ...details, logs } : details;
}

function withTimeout(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new CheckFailure(
            `the check did not finish within ${ms / 1000} s (is the app answering?)`,
          ),
        ),
      ms,
    );
  });
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}
