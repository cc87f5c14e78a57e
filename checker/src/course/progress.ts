import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RunResult } from '../results/types';
import type { StepInfo } from './paths';

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

const progressPath = (workspace: string): string => join(workspace, '.sandbox', 'progress.json');
const feedbackPath = (workspace: string): string => join(workspace, '.sandbox', 'feedback.json');

export function emptyProgress(): Progress {
  return { version: 1, steps: {}, hints: {} };
}

export function readProgress(workspace: string): Progress {
  const path = progressPath(workspace);
  if (!existsSync(path)) return emptyProgress();
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<Progress>;
  return { version: 1, steps: parsed.steps ?? {}, hints: parsed.hints ?? {} };
}

export function writeProgress(workspace: string, progress: Progress): void {
  const path = progressPath(workspace);
  mkdirSync(dirname(path), { recursive: true });
  // Write then rename, so an interrupted write never leaves half a file.
  writeFileSync(`${path}.tmp`, `${JSON.stringify(progress, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
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

export function hasPassed(progress: Progress, step: StepInfo): boolean {
  return progress.steps[step.slug]?.status === 'pass';
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

export function readFeedback(workspace: string): Feedback[] {
  const path = feedbackPath(workspace);
  if (!existsSync(path)) return [];
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  return Array.isArray(parsed) ? (parsed as Feedback[]) : [];
}
