import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The course repository's root: the nearest folder above `from` holding steps/manifest.json. */
export function courseRoot(from: string = __dirname): string {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, 'steps', 'manifest.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`steps/manifest.json not found above ${from}`);
    dir = parent;
  }
}

/** A step of the course: the one model of it (manifest position and slug, its folder, its checks). */
export interface StepInfo {
  /** 1-based position in the course. */
  number: number;
  slug: string;
  title: string;
  /** Folder name, e.g. `05-notes-crud`. */
  folder: string;
  /** Absolute path of steps/NN-slug. */
  dir: string;
  /** Absolute paths of its checks/*.check.ts, sorted by name. */
  checkFiles: string[];
}

interface ManifestFile {
  steps: { slug: string; title: string }[];
}

/** The steps of the course at `root` (its steps/ folder). */
export function loadSteps(root: string = courseRoot()): StepInfo[] {
  return loadStepsDir(join(root, 'steps'));
}

/**
 * The steps of a steps folder, in manifest order (identity by slug, order by position): each
 * step's folder is the `NN-slug` one there, whatever its number, else the one its position names.
 */
export function loadStepsDir(stepsDir: string): StepInfo[] {
  const manifestPath = join(stepsDir, 'manifest.json');
  if (!existsSync(manifestPath)) throw new Error(`no steps manifest at ${manifestPath}`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as ManifestFile;
  const folders = readdirSync(stepsDir);
  return manifest.steps.map(({ slug, title }, i) => {
    const folder =
      folders.find((name) => /^\d+-/.test(name) && name.replace(/^\d+-/, '') === slug) ??
      `${String(i + 1).padStart(2, '0')}-${slug}`;
    const dir = join(stepsDir, folder);
    const checksDir = join(dir, 'checks');
    const checkFiles = existsSync(checksDir)
      ? readdirSync(checksDir)
          .filter((name) => name.endsWith('.check.ts'))
          .sort()
          .map((name) => join(checksDir, name))
      : [];
    return { number: i + 1, slug, title, folder, dir, checkFiles };
  });
}

/** Finds a step by number ("5") or slug ("notes-crud"); throws a learner-readable error. */
export function findStep(steps: StepInfo[], key: string): StepInfo {
  const byNumber = /^\d+$/.test(key) ? steps[Number(key) - 1] : undefined;
  const step = byNumber ?? steps.find((s) => s.slug === key || s.folder === key);
  if (!step) {
    const known = steps.map((s) => `${s.number} (${s.slug})`).join(', ');
    throw new Error(`Unknown step "${key}". Steps: ${known}.`);
  }
  return step;
}

export const starterDir = (root: string = courseRoot()): string => join(root, 'steps', 'starter');
export const lessonPath = (step: StepInfo): string => join(step.dir, 'README.md');
export const referencePatchPath = (step: StepInfo): string => join(step.dir, 'reference.patch');
