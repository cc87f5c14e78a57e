import type { AggregatedResult } from '@jest/test-result';
import path from 'node:path';
import type { CheckOutcome, CheckRegistration } from '../harness/bridge';
import type { StepDefinition } from '../runner/steps';
import {
  RESULT_SCHEMA_VERSION,
  type CheckResult,
  type CheckStatus,
  type RunResult,
  type RunRuntime,
  type ServicesMode,
  type StepResult,
} from './types';

/** What a grading run gathered: checks in registration order, their outcomes, files that failed to load, jest's own report. */
export interface Collected {
  registrations: CheckRegistration[];
  outcomes: Map<string, CheckOutcome>;
  loadErrors: Map<string, string>;
  jest: AggregatedResult | null;
}

export interface RunHeader {
  workspace: string;
  services: ServicesMode;
  started: { at: Date; ms: number };
  /** Set by the runtime once chosen; before that, nothing of the learner's ran. */
  runtime: RunRuntime;
}

export const outcomeKey = (file: string, name: string): string => `${file}\u0000${name}`;

export function toCheckResult(r: CheckRegistration, o: CheckOutcome): CheckResult {
  const result: CheckResult = {
    name: r.name,
    status: o.status,
    points: o.status === 'pass' ? r.points : 0,
    maxPoints: r.points,
    message: o.message,
    hint: o.hint ?? r.hint,
    durationMs: o.durationMs,
  };
  if (o.details && o.status !== 'pass') result.details = o.details;
  return result;
}

/** The result of a run that graded nothing because the checker itself could not (exit 2). */
export function checkerErrorResult(
  header: RunHeader,
  code: string,
  message: string,
  logs?: string,
): RunResult {
  return {
    ...base(header),
    status: 'error',
    score: 0,
    maxScore: 0,
    steps: [],
    error: { code, message, ...(logs ? { logs } : {}) },
  };
}

export function buildResult(
  header: RunHeader,
  steps: StepDefinition[],
  collected: Collected,
  stopReason: string | null,
): RunResult {
  const stepResults = steps.map((step) => stepResult(step, collected, stopReason));
  const all = stepResults.flatMap((s) => s.checks);
  const result: RunResult = {
    ...base(header),
    status: worst(stepResults.map((s) => s.status)),
    score: sum(stepResults.map((s) => s.score)),
    maxScore: sum(stepResults.map((s) => s.maxScore)),
    steps: stepResults,
  };
  if (stopReason) {
    const done = all.filter((c) => !c.message.startsWith('not ')).length;
    result.status = 'error';
    result.error = {
      code: 'STOPPED',
      message: `${stopReason}: ${done} of ${all.length} checks finished`,
    };
  }
  return result;
}

function base(
  header: RunHeader,
): Pick<
  RunResult,
  'schemaVersion' | 'workspace' | 'startedAt' | 'durationMs' | 'services' | 'runtime'
> {
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    workspace: header.workspace,
    startedAt: header.started.at.toISOString(),
    durationMs: Math.round(performance.now() - header.started.ms),
    services: header.services,
    runtime: { ...header.runtime },
  };
}

function stepResult(
  step: StepDefinition,
  collected: Collected,
  stopReason: string | null,
): StepResult {
  const checks = step.checkFiles.flatMap((file) => fileChecks(file, collected, stopReason));
  return {
    number: step.number,
    slug: step.slug,
    title: step.title,
    status: worst(checks.map((c) => c.status)),
    score: sum(checks.map((c) => c.points)),
    maxScore: sum(checks.map((c) => c.maxPoints)),
    checks,
  };
}

function fileChecks(file: string, collected: Collected, stopReason: string | null): CheckResult[] {
  const registered = collected.registrations.filter((r) => r.file === file);
  // jest ran one test file, the entry that loaded every check file (harness/checks.entry.ts).
  const fileReport = collected.jest?.testResults[0];
  const loadError = collected.loadErrors.get(file);
  if (registered.length === 0 || loadError) {
    // The file never registered a check: it failed to load, or the run stopped before it.
    const why =
      loadError ??
      fileReport?.testExecError?.message ??
      (stopReason ? `not run: ${stopReason}` : 'no checks registered');
    return [
      {
        name: path.basename(file),
        status: 'error',
        points: 0,
        maxPoints: 0,
        message: firstLines(why),
        hint: '',
        durationMs: 0,
      },
    ];
  }
  return registered.map((r) => {
    const outcome =
      collected.outcomes.get(outcomeKey(r.file, r.name)) ??
      missingOutcome(r, fileReport, stopReason);
    return toCheckResult(r, outcome);
  });
}

function missingOutcome(
  r: CheckRegistration,
  report: AggregatedResult['testResults'][number] | undefined,
  stopReason: string | null,
): CheckOutcome {
  if (stopReason) return { status: 'error', message: `not run: ${stopReason}`, durationMs: 0 };
  const jestSaid =
    report?.testResults.find((a) => a.title === r.name)?.failureMessages[0] ??
    report?.testExecError?.message;
  return {
    status: 'error',
    message: `no result recorded${jestSaid ? `: ${firstLines(jestSaid)}` : ''}`,
    durationMs: 0,
  };
}

function firstLines(text: string, n = 8): string {
  return text.split('\n').slice(0, n).join('\n');
}

const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);

function worst(statuses: CheckStatus[]): CheckStatus {
  if (statuses.includes('error')) return 'error';
  if (statuses.includes('fail')) return 'fail';
  return 'pass';
}
