import { copyWorkspace } from '../workspace/copy';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { courseRoot, loadSteps, referencePatchPath, starterDir, type StepInfo } from './paths';

/**
 * The reference state after step N = the starter with steps/01..NN/reference.patch applied.
 * Patches cover only these paths of a workspace; everything else (package.json, tsconfig,
 * lock file) comes from the starter, which already pins every library the course uses.
 */
export const REFERENCE_PATHS = ['src'];

function git(cwd: string, args: string[], input?: string): string {
  return execFileSync('git', args, {
    cwd,
    input,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'sandbox',
      GIT_AUTHOR_EMAIL: 'sandbox@sandbox.test',
      GIT_COMMITTER_NAME: 'sandbox',
      GIT_COMMITTER_EMAIL: 'sandbox@sandbox.test',
    },
    maxBuffer: 64 * 1024 * 1024,
  });
}

export function hasReference(step: StepInfo): boolean {
  return existsSync(referencePatchPath(step));
}

export function readReference(step: StepInfo): string {
  const path = referencePatchPath(step);
  if (!existsSync(path))
    throw new Error(
      `No reference change for step ${step.number} (${step.slug}) yet: ${path} is missing.`,
    );
  return readFileSync(path, 'utf8');
}

/** Applies the reference change of `step` to the workspace `dir` (a git repository or a plain folder). */
export function applyReference(dir: string, step: StepInfo): void {
  const patch = readReference(step);
  if (!patch.includes('diff --git')) return; // a step that changes nothing
  try {
    git(dir, ['apply', '--whitespace=nowarn', '-'], patch);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    throw new Error(`steps/${step.folder}/reference.patch does not apply to ${dir}:\n${stderr}`);
  }
}

/** Writes the state after step `upTo` (0 = starter) into `dir`, which must not exist yet. */
export function buildState(dir: string, upTo: number, root: string = courseRoot()): void {
  copyWorkspace(starterDir(root), dir);
  for (const step of loadSteps(root).slice(0, upTo)) applyReference(dir, step);
}

/** Files that differ between two folders, restricted to REFERENCE_PATHS; empty when equal. */
export function diffReferencePaths(left: string, right: string): string[] {
  const differences: string[] = [];
  for (const path of REFERENCE_PATHS) {
    const a = join(left, path);
    const b = join(right, path);
    try {
      git(left, ['diff', '--no-index', '--name-status', '--', a, b]);
    } catch (error) {
      const out = (error as { stdout?: string }).stdout ?? '';
      differences.push(...out.split('\n').filter(Boolean));
    }
  }
  return differences;
}

/** Rebuilds all states and compares the last one with reference-app/; returns what differs. */
export function verifyReferences(root: string = courseRoot()): {
  missing: string[];
  differences: string[];
} {
  const steps = loadSteps(root);
  const missing = steps.filter((s) => !hasReference(s)).map((s) => s.folder);
  if (missing.length > 0) return { missing, differences: [] };
  const tmp = mkdtempSync(join(tmpdir(), 'course-verify-'));
  try {
    const state = join(tmp, 'state');
    buildState(state, steps.length, root);
    return { missing, differences: diffReferencePaths(state, join(root, 'reference-app')) };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * A git repository with one commit per state: "00-starter", then one commit per step whose
 * subject is the step's folder; a last "unassigned" commit holds what reference-app/ has
 * beyond the last patch. Maintainers edit it with ordinary git (rebase -i, commit --fixup).
 */
export function createStack(
  dir: string,
  root: string = courseRoot(),
): { commits: number; unassigned: boolean } {
  copyWorkspace(starterDir(root), dir);
  git(dir, ['init', '--quiet', '--initial-branch=course']);
  git(dir, ['add', '-A']);
  git(dir, ['commit', '--quiet', '-m', '00-starter']);
  let commits = 1;
  for (const step of loadSteps(root)) {
    if (!hasReference(step)) break;
    applyReference(dir, step);
    git(dir, ['add', '-A']);
    git(dir, ['commit', '--quiet', '--allow-empty', '-m', step.folder]);
    commits += 1;
  }
  for (const path of REFERENCE_PATHS) {
    rmSync(join(dir, path), { recursive: true, force: true });
    const from = join(root, 'reference-app', path);
    if (existsSync(from)) cpSync(from, join(dir, path), { recursive: true });
  }
  git(dir, ['add', '-A']);
  const unassigned = git(dir, ['status', '--porcelain']).trim() !== '';
  if (unassigned)
    git(dir, ['commit', '--quiet', '-m', 'unassigned: reference-app beyond the last step']);
  return { commits: commits + (unassigned ? 1 : 0), unassigned };
}

/** Writes steps/NN-slug/reference.patch from a stack's commits; returns the folders written. */
export function exportStack(dir: string, root: string = courseRoot()): string[] {
  const steps = loadSteps(root);
  const commits = git(dir, ['rev-list', '--reverse', '--first-parent', 'HEAD'])
    .split('\n')
    .filter(Boolean);
  const subjects = commits.map((c) => git(dir, ['log', '-1', '--format=%s', c]).trim());
  if (subjects[0] !== '00-starter')
    throw new Error(`the stack's first commit must be "00-starter", found "${subjects[0]}"`);
  const written: string[] = [];
  subjects.slice(1).forEach((subject, i) => {
    const step = steps[i];
    if (!step || subject !== step.folder) {
      throw new Error(
        `commit ${i + 2} is "${subject}", expected "${step?.folder ?? '(none: all steps done)'}"; reorder or squash it first`,
      );
    }
    const body = git(dir, [
      'diff',
      '--no-color',
      '--no-ext-diff',
      '--binary',
      `${commits[i]}`,
      `${commits[i + 1]}`,
      '--',
      ...REFERENCE_PATHS,
    ]);
    writeFileSync(
      referencePatchPath(step),
      `# Reference change for step ${step.number} (${step.slug}): ${step.title}\n${body}`,
    );
    written.push(step.folder);
  });
  return written;
}
