import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface StepDefinition {
  /** Position in the manifest, from 1. */
  number: number;
  slug: string;
  title: string;
  /** Absolute paths of steps/NN-slug/checks/*.check.ts, sorted by name. */
  checkFiles: string[];
}

/** The course's steps folder: SANDBOX_STEPS_DIR (tests point it at fixtures), else the repository's steps/. */
export function defaultStepsDir(): string {
  return process.env['SANDBOX_STEPS_DIR'] ?? path.resolve(__dirname, '../../../steps');
}

interface Manifest {
  steps: { slug: string; title: string }[];
}

/** Steps in manifest order, each with its check files. */
export function loadSteps(stepsDir: string): StepDefinition[] {
  const manifestPath = path.join(stepsDir, 'manifest.json');
  if (!existsSync(manifestPath)) throw new Error(`no steps manifest at ${manifestPath}`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  const folders = readdirSync(stepsDir);
  return manifest.steps.map(({ slug, title }, index) => {
    const folder = folders.find((name) => name.replace(/^\d+-/, '') === slug && /^\d+-/.test(name));
    const checksDir = folder ? path.join(stepsDir, folder, 'checks') : undefined;
    const checkFiles =
      checksDir && existsSync(checksDir)
        ? readdirSync(checksDir)
            .filter((name) => name.endsWith('.check.ts'))
            .sort()
            .map((name) => path.join(checksDir, name))
        : [];
    return { number: index + 1, slug, title, checkFiles };
  });
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
