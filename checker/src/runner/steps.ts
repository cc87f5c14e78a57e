import path from 'node:path';
import type { StepInfo } from '../course/paths';

/** The runner grades the course's steps (course/paths.ts: the one Course model). */
export type StepDefinition = StepInfo;

/** The course's steps folder: SANDBOX_STEPS_DIR (tests point it at fixtures), else the repository's steps/. */
export function defaultStepsDir(): string {
  return process.env['SANDBOX_STEPS_DIR'] ?? path.resolve(__dirname, '../../../steps');
}

/**
 * `--step N|slug` grades steps 1..N (regressions included); with `only`, just step N.
 * No step: all of them. Throws on an unknown step.
 */
export function selectSteps(
  steps: StepDefinition[],
  step?: string,
  only = false,
): StepDefinition[] {
  if (step === undefined) return steps;
  const target = /^\d+$/.test(step)
    ? steps.find((s) => s.number === Number(step))
    : steps.find((s) => s.slug === step);
  if (!target) {
    const known = steps.map((s) => `${s.number} (${s.slug})`).join(', ');
    throw new UnknownStepError(`unknown step "${step}": use one of ${known}`);
  }
  return only ? [target] : steps.filter((s) => s.number <= target.number);
}

export class UnknownStepError extends Error {
  override readonly name = 'UnknownStepError';
}

/** The step a check file belongs to: the folder it lives in. */
export function stepOfFile(steps: StepDefinition[], file: string): StepDefinition | undefined {
  return steps.find((s) => s.checkFiles.includes(file));
}
