import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  cpSync,
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildState } from '../../checker/src/course/references';
import { grade } from '../../checker/src/runner/grade';
import { loadPrepareRun } from '../../checker/src/runner/prepare';
import type { RunResult } from '../../checker/src/results/types';
import { isGenerated } from '../../checker/src/workspace/generated';

export const ROOT = path.resolve(__dirname, '..', '..');
export const REFERENCE = path.join(ROOT, 'reference-app');
export const BROKEN_DIR = path.join(ROOT, 'test', 'broken');

/**
 * Grades a workspace up to `step` (all steps when omitted), or that step alone with `only`, with
 * the checker's own runner; `serial` runs every check alone, in order (concurrency 1).
 */
export function gradeWorkspace(
  workspace: string,
  step?: string,
  opts: { only?: boolean; serial?: boolean } = {},
): Promise<RunResult> {
  return grade(
    {
      workspace,
      services: 'local',
      timeoutSeconds: 240,
      ...(step ? { step } : {}),
      ...(step && opts.only ? { only: true } : {}),
      ...(opts.serial ? { concurrency: 1 } : {}),
    },
    loadPrepareRun(),
  );
}

/** `slug/check name` -> status, message. */
export function outcomes(result: RunResult): Map<string, { status: string; message: string }> {
  const map = new Map<string, { status: string; message: string }>();
  for (const step of result.steps) {
    for (const c of step.checks)
      map.set(`${step.slug}/${c.name}`, { status: c.status, message: c.message });
  }
  return map;
}

export function failing(result: RunResult): string[] {
  return [...outcomes(result)]
    .filter(([, o]) => o.status !== 'pass')
    .map(([id]) => id)
    .sort();
}

/**
 * A copy of reference-app with one broken-submission patch applied, inside the repository
 * (.sandbox/broken-NAME-RANDOM) so its node_modules resolve from the root. Returns its path.
 * The copy has no dist and a path of its own, so the checker builds the patched source
 * (its build cache is keyed by path and source hash: a reused path could skip the build).
 */
export function brokenWorkspace(name: string): string {
  const dir = path.join(ROOT, '.sandbox', `broken-${name}-${randomBytes(3).toString('hex')}`);
  cpSync(REFERENCE, dir, {
    recursive: true,
    filter: (src) => !isGenerated(path.relative(REFERENCE, src)) && !src.endsWith('.tsbuildinfo'),
  });
  pointTsconfigsAtRoot(dir);
  try {
    applyPatch(path.join(BROKEN_DIR, name, 'change.patch'), dir);
  } catch (e) {
    removeWorkspace(dir);
    throw e;
  }
  return dir;
}

/**
 * The course's state after step `upTo` (0: the starter), as a learner's workspace with the
 * repository's node_modules linked (the learner's npm install), in a temporary folder outside
 * the repository (its reference patches are applied with git apply, which inside another git
 * work tree would skip them).
 */
export function stateWorkspace(upTo: number): string {
  const dir = path.join(os.tmpdir(), `state-${upTo}-${randomBytes(3).toString('hex')}`);
  buildState(dir, upTo, ROOT);
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

/** Applies a broken-submission patch; when it does not apply, says which patch and why (regenerate it). */
export function applyPatch(patchFile: string, dir: string): void {
  const patch = readFileSync(patchFile);
  try {
    execFileSync('patch', ['-p1', '--forward', '--batch', '--no-backup-if-mismatch', '-d', dir], {
      input: patch,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (e) {
    const out =
      e instanceof Error && 'stdout' in e ? String((e as { stdout: unknown }).stdout) : '';
    const rel = path.relative(ROOT, patchFile);
    throw new Error(
      `${rel} does not apply to reference-app any more (reference-app changed): regenerate it ` +
        `against the current source, keeping it tiny.\npatch said:\n${out.trim()}`,
    );
  }
}

/** The copy sits one level deeper than reference-app: its tsconfigs must still extend the root base. */
function pointTsconfigsAtRoot(dir: string): void {
  for (const name of readdirSync(dir).filter((f) => /^tsconfig.*\.json$/.test(f))) {
    const file = path.join(dir, name);
    const base = path.relative(dir, path.join(ROOT, 'tsconfig.base.json'));
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace('"../tsconfig.base.json"', JSON.stringify(base)),
    );
  }
}

export function removeWorkspace(dir: string): void {
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
}

/**
 * Why a whole run failed before any check could judge the app (undefined when the checks ran):
 * the checker could not grade (status error), or the app could not be set up (build, start),
 * which fails every check with the same message. Tests show this first: a 0/155 then says why.
 */
export function setupFailure(result: RunResult): string | undefined {
  if (result.status === 'error' && result.error && result.steps.length === 0)
    return `the checker could not grade (${result.error.code}): ${result.error.message}`;
  const checks = result.steps.flatMap((s) => s.checks);
  const first = checks[0];
  const sameFailure =
    first !== undefined &&
    first.status !== 'pass' &&
    checks.every(
      (c) => c.status === first.status && c.message === first.message && c.durationMs === 0,
    );
  if (!sameFailure) return undefined;
  const output = result.setupFailure?.logs ?? first.details?.logs;
  const logs = output ? `\napp output:\n${output}` : '';
  return `the whole run failed at setup, before any check ran (a transient problem such as the workspace being rebuilt meanwhile, or a real one): ${first.message}${logs}`;
}
