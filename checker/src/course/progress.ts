import type { RunResult } from '../results/types';
import type { StepInfo } from './paths';
import { readWorkspaceJson, setAsideWorkspaceFile, writeWorkspaceFile } from '../workspace/files';

/** What the workspace remembers between runs, in `.sandbox/progress.json`. */
export interface StepProgress {
  status: 'pass' | 'fail' | 'error';
  score: number;
  maxScore: number;
  checkedAt: string;
  /** Names of the checks that did not pass at the last run of this step. */
  failing: string[];
  /** When the step first passed; kept once set. */
  passedAt?: string;
}

export interface Progress {
  version: 1;
  /** Keyed by step slug. */
  steps: Record<string, StepProgress>;
  /** How many hints of each step were revealed, keyed by slug. */
  hints: Record<string, number>;
}

/** A mentor's note for the learner, kept in `.sandbox/feedback.json` (written by `sandbox submit`). */
export interface Feedback {
  author: string;
  message: string;
  at: string;
  step?: string;
}

const PROGRESS = '.sandbox/progress.json';
const FEEDBACK = '.sandbox/feedback.json';

/** Told once per file when a `.sandbox` file is unusable; the command goes on with the rest. */
export type Warn = (message: string) => void;
const warned = new Set<string>();
const warnOnStderr: Warn = (message) => {
  if (warned.has(message)) return;
  warned.add(message);
  process.stderr.write(`${message}\n`);
};

export function emptyProgress(): Progress {
  return { version: 1, steps: {}, hints: {} };
}

export function readProgress(workspace: string, warn: Warn = warnOnStderr): Progress {
  const read = readWorkspaceJson(workspace, PROGRESS);
  if (read.ok) {
    const parsed = isObject(read.value) ? read.value : {};
    return {
      version: 1,
      steps: entries(parsed['steps'], isStepProgress),
      hints: entries(parsed['hints'], (n): n is number => Number.isInteger(n) && Number(n) >= 0),
    };
  }
  if (!read.missing)
    warn(`${read.problem}; progress is shown as empty (the next check records it again).`);
  return emptyProgress();
}

export function writeProgress(workspace: string, progress: Progress): void {
  const read = readWorkspaceJson(workspace, PROGRESS);
  if (!read.ok && !read.missing) {
    const aside = setAsideWorkspaceFile(workspace, PROGRESS);
    if (aside) warnOnStderr(`(the damaged progress file was kept as ${aside})`);
  }
  writeWorkspaceFile(workspace, PROGRESS, `${JSON.stringify(progress, null, 2)}\n`);
}

/** Merges a run's per-step results into the workspace's progress (steps not graded keep theirs). */
export function recordRun(workspace: string, result: RunResult): Progress {
  const progress = readProgress(workspace);
  for (const step of result.steps) {
    const before = progress.steps[step.slug];
    const passedAt =
      step.status === 'pass' ? (before?.passedAt ?? result.startedAt) : before?.passedAt;
    progress.steps[step.slug] = {
      status: step.status,
      score: step.score,
      maxScore: step.maxScore,
      checkedAt: result.startedAt,
      failing: step.checks.filter((c) => c.status !== 'pass').map((c) => c.name),
      ...(passedAt ? { passedAt } : {}),
    };
  }
  writeProgress(workspace, progress);
  return progress;
}

/** Whether the step's last run passed. */
export function hasPassed(progress: Progress, step: StepInfo): boolean {
  return progress.steps[step.slug]?.status === 'pass';
}

/** Whether the step ever passed: its solution stays open even if a later run fails it. */
export function hasEverPassed(progress: Progress, step: StepInfo): boolean {
  const p = progress.steps[step.slug];
  return p?.status === 'pass' || typeof p?.passedAt === 'string';
}

/** The first step whose last result is not a pass, or undefined when the course is done. */
export function nextStep(progress: Progress, steps: StepInfo[]): StepInfo | undefined {
  return steps.find((s) => !hasPassed(progress, s));
}

/** Reveals one more hint of `step` (up to `available`); returns how many are revealed now. */
export function revealHint(workspace: string, step: StepInfo, available: number): number {
  const progress = readProgress(workspace);
  const revealed = Math.min((progress.hints[step.slug] ?? 0) + 1, available);
  progress.hints[step.slug] = revealed;
  writeProgress(workspace, progress);
  return revealed;
}

export function readFeedback(workspace: string, warn: Warn = warnOnStderr): Feedback[] {
  const read = readWorkspaceJson(workspace, FEEDBACK);
  if (!read.ok) {
    if (!read.missing) warn(`${read.problem}; mentor feedback is not shown.`);
    return [];
  }
  return Array.isArray(read.value) ? read.value.filter(isFeedback) : [];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The entries of a JSON object that have the expected shape (a hand-edited file keeps the rest). */
function entries<T>(value: unknown, valid: (v: unknown) => v is T): Record<string, T> {
  if (!isObject(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, T] => valid(e[1])));
}

function isStepProgress(value: unknown): value is StepProgress {
  if (!isObject(value)) return false;
  return (
    ['pass', 'fail', 'error'].includes(String(value['status'])) &&
    typeof value['score'] === 'number' &&
    typeof value['maxScore'] === 'number' &&
    typeof value['checkedAt'] === 'string' &&
    Array.isArray(value['failing']) &&
    value['failing'].every((f) => typeof f === 'string') &&
    (value['passedAt'] === undefined || typeof value['passedAt'] === 'string')
  );
}

function isFeedback(value: unknown): value is Feedback {
  if (!isObject(value)) return false;
  return (
    typeof value['author'] === 'string' &&
    typeof value['message'] === 'string' &&
    typeof value['at'] === 'string' &&
    (value['step'] === undefined || typeof value['step'] === 'string')
  );
}
