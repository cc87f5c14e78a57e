import { existsSync, readFileSync } from 'node:fs';
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

export interface StepInfo {
  /** 1-based position in the course. */
  number: number;
  slug: string;
  title: string;
  /** Folder name, e.g. `05-notes-crud`. */
  folder: string;
  /** Absolute path of steps/NN-slug. */
  dir: string;
}

interface ManifestFile {
  steps: { slug: string; title: string }[];
}

export function loadSteps(root: string = courseRoot()): StepInfo[] {
  const manifest = JSON.parse(
    readFileSync(join(root, 'steps', 'manifest.json'), 'utf8'),
  ) as ManifestFile;
  return manifest.steps.map((s, i) => {
    const folder = `${String(i + 1).padStart(2, '0')}-${s.slug}`;
    return {
      number: i + 1,
      slug: s.slug,
      title: s.title,
      folder,
      dir: join(root, 'steps', folder),
    };
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
