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

/** Registers one graded check: all of meta.points when fn resolves, none when it throws. */
export function check(name: string, meta: CheckMeta, fn: () => Promise<void>): void {
  const { bridge, testPath } = fileBridge();
  const timeoutMs = meta.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  bridge.register({ file: testPath, name, points: meta.points, hint: meta.hint, timeoutMs });
  test(
    name,
    async () => {
      const outcome = await runCheck(bridge, fn, timeoutMs);
      bridge.report(testPath, name, outcome);
      if (outcome.status !== 'pass') throw new Error(outcome.message);
    },
    timeoutMs + CLEANUP_GRACE_MS,
  );
}

async function runCheck(
  bridge: RunBridge,
  fn: () => Promise<void>,
  timeoutMs: number,
): Promise<CheckOutcome> {
  const notRun = bridge.stopReason();
  if (notRun) return { status: 'error', message: `not run: ${notRun}`, durationMs: 0 };
  if (bridge.setupFailure) {
    const { message, logs } = bridge.setupFailure;
    return {
      status: 'fail',
      message,
      durationMs: 0,
      details: { summary: message, ...(logs ? { logs } : {}) },
    };
  }
  const started = performance.now();
  let outcome: CheckOutcome;
  try {
    await bridge.beforeCheck();
    await withTimeout(fn(), timeoutMs);
    outcome = { status: 'pass', message: '', durationMs: 0 };
  } catch (e) {
    const { status, message, details, hint } = classifyError(e);
    outcome = {
      status,
      message,
      durationMs: 0,
      details: withLogs(details, bridge, status),
      ...(hint ? { hint } : {}),
    };
  }
  try {
    await bridge.afterCheck();
  } catch (e) {
    if (outcome.status === 'pass') {
      const message = `cleanup after the check failed: ${e instanceof Error ? e.message : String(e)}`;
      outcome = { status: 'error', message, durationMs: 0 };
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
