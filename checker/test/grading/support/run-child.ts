import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunResult } from '../../../src/results/types';

export const REPO = path.resolve(__dirname, '../../../..');
export const FIXTURES = path.join(__dirname, '../fixtures');
const TSX = path.join(REPO, 'node_modules/.bin/tsx');

/** grade() with the tiny fixture run, in a child process (jest runs the checks in-band there). */
export function gradeFixture(
  workspace: string,
  args: string[] = [],
  env: Record<string, string> = {},
): RunResult {
  const child = spawnSync(TSX, [path.join(__dirname, 'grade-main.ts'), workspace, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  if (child.status !== 0) throw new Error(`grade-main exited ${child.status}: ${child.stderr}`);
  return JSON.parse(child.stdout) as RunResult;
}

/** The sandbox CLI from source, in a child process. */
export function runCli(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): { code: number | null; stdout: string; stderr: string } {
  const child = spawnSync(TSX, [path.join(REPO, 'checker/src/cli.ts'), ...args], {
    encoding: 'utf8',
    cwd: opts.cwd ?? REPO,
    // Hermetic: no workspace remembered by an earlier `sandbox init` on this machine.
    env: {
      ...process.env,
      NO_COLOR: '1',
      SANDBOX_WORKSPACE: '',
      SANDBOX_STATE_DIR: mkdtempSync(path.join(os.tmpdir(), 'sandbox-state-')),
      ...opts.env,
    },
    timeout: 120_000,
  });
  return { code: child.status, stdout: child.stdout, stderr: child.stderr };
}
