import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { descendants } from '../../src/sandbox/process-tree';
import type { RunResult } from '../../src/results/types';
import { runsDir } from '../../src/services/local-postgres';
import { processesMentioning, stillAlive } from '../support/leftovers';
import { writeTinyApp } from '../support/tiny-app';

const REPO = path.resolve(__dirname, '../../..');
const TSX = path.join(REPO, 'node_modules/.bin/tsx');
const CLI = path.join(REPO, 'checker/src/cli.ts');
const STEPS = path.join(__dirname, 'fixtures/steps');

interface Ended {
  code: number | null;
  result: RunResult;
  /** The checker's process tree while the hanging check ran. */
  tree: number[];
}

/** Runs `sandbox check` on the tiny app over fixture steps whose step 2 never ends; `interrupt` sends Ctrl-C once step 1 passed. */
async function checkWithHang(opts: { timeoutSeconds: number; interrupt: boolean }): Promise<Ended> {
  const tiny = writeTinyApp();
  const args = [
    CLI,
    'check',
    '--workspace',
    tiny.dir,
    // Local services: this test follows the private processes (container mode has its own suite).
    '--services',
    'local',
    '--timeout',
    String(opts.timeoutSeconds),
    // JSON on stdout (no --out), so the live check lines go to stderr, where this test follows them.
    '--format',
    'json',
  ];
  const child = spawn(TSX, args, {
    env: { ...process.env, SANDBOX_STEPS_DIR: STEPS, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let tree: number[] = [];
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (tree.length === 0 && stderr.includes('✓ GET /health answers 200')) {
        tree = descendants(child.pid!);
        if (opts.interrupt) setTimeout(() => child.kill('SIGINT'), 300); // the hanging check has begun by then
      }
    });
    const code = await new Promise<number | null>((resolve) =>
      child.once('exit', (c) => resolve(c)),
    );
    if (!stdout.trim()) throw new Error(`no report; stderr:\n${stderr}`);
    return { code, result: JSON.parse(stdout) as RunResult, tree };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    tiny.remove();
  }
}

const checksOf = (r: RunResult): [string, string, string][] =>
  r.steps.flatMap((s) =>
    s.checks.map((c): [string, string, string] => [s.slug, c.status, c.message]),
  );

/** Run dirs (private Postgres clusters, redis-servers) owned by one of `pids`. */
function runDirsOf(pids: number[]): string[] {
  const dir = runsDir();
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((name) => pids.includes(Number(/^\w+-(\d+)-/.exec(name)?.[1])));
}

/**
 * The processes of the tree still alive that are the run's own. With a warm Postgres (`services
 * up`: a developer's, or another suite's) a run also makes spare redis-servers for the next runs:
 * those live on, rightly, as the warm Postgres's spares (`redisspare-…`) or, once another run took
 * one, in that run's dir.
 */
function runsOwnAlive(tree: number[]): number[] {
  return stillAlive(tree).filter((pid) => {
    let dir: string;
    try {
      dir = path.basename(readlinkSync(`/proc/${pid}/cwd`));
    } catch {
      return false; // gone since
    }
    if (dir.startsWith('redisspare-')) return false;
    const owner = Number(/^\w+-(\d+)-/.exec(dir)?.[1]);
    return !owner || tree.includes(owner);
  });
}

function expectNothingLeft(ended: Ended): void {
  expect(ended.tree.length).toBeGreaterThanOrEqual(3); // the checker, redis-server, the app (and postgres unless warm)
  expect(runsOwnAlive(ended.tree)).toEqual([]);
  expect(runDirsOf(ended.tree)).toEqual([]);
}

describe('a run that is stopped while a check hangs', () => {
  it('at the time limit (--timeout), reports the finished checks, the rest "not run", and leaves nothing behind', async () => {
    const ended = await checkWithHang({ timeoutSeconds: 12, interrupt: false });
    expect(checksOf(ended.result)).toEqual([
      ['hello', 'pass', ''],
      ['hang', 'error', 'not run: time limit of 12 s reached'], // it never reported, so it counts as not run
      ['after', 'error', 'not run: time limit of 12 s reached'],
    ]);
    expect(ended.result.status).toBe('error');
    expect(ended.result.error?.code).toBe('STOPPED');
    expect(ended.code).toBe(2);
    expectNothingLeft(ended);
    expect(processesMentioning(ended.result.workspace)).toEqual([]);
  }, 60_000);

  it('on Ctrl-C, exits 130 with the finished checks reported and everything disposed', async () => {
    const ended = await checkWithHang({ timeoutSeconds: 120, interrupt: true });
    expect(ended.code).toBe(130);
    expect(checksOf(ended.result)).toEqual([
      ['hello', 'pass', ''],
      ['hang', 'error', 'not run: interrupted'],
      ['after', 'error', 'not run: interrupted'],
    ]);
    expect(ended.result.timings?.['step.hello']).toBeGreaterThanOrEqual(0);
    expectNothingLeft(ended);
    expect(processesMentioning(ended.result.workspace)).toEqual([]);
  }, 60_000);
});
