import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunResult } from '../checker/src/results/types';
import { courseRoot, loadSteps, type StepInfo } from '../checker/src/course/paths';
import { applyReference, hasReference } from '../checker/src/course/references';

// A learner's first hour, through the real CLI: init, check (fails, pointing at the lesson),
// hint, status, then each reference change applied in turn: step N passes, step N+1 fails.
const root = courseRoot(__dirname);
const steps = loadSteps(root);
const cli = join(root, 'checker/bin/sandbox.js');

let tmp: string;
let workspace: string;

// A learner owns the workspace and is not root. As root (CI) the checker would contain every run
// (a copy, npm install, a full build: a minute each), which the sandbox's own tests cover; here
// the learner is `nobody`, with a home of its own under tmp.
const asRoot = process.getuid?.() === 0;
const LEARNER = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'];
/** git, as root, may touch the learner's repository (applyReference runs git apply in it). */
const GIT_TRUSTS_ALL = {
  GIT_CONFIG_COUNT: '1',
  GIT_CONFIG_KEY_0: 'safe.directory',
  GIT_CONFIG_VALUE_0: '*',
};

function sandbox(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const command = [...(asRoot ? LEARNER : []), process.execPath, cli, ...args];
  const r = spawnSync(command[0]!, command.slice(1), {
    cwd: root,
    encoding: 'utf8',
    timeout: 180_000,
    env: {
      ...process.env,
      NO_COLOR: '1',
      HOME: join(tmp, 'home'),
      XDG_CACHE_HOME: join(tmp, 'home', '.cache'),
      SANDBOX_STATE_DIR: join(tmp, 'state'),
      // A cache of its own: the warm Postgres below is this walkthrough's alone, so stopping it
      // at the end cannot pull it from under a suite running beside this one.
      SANDBOX_CACHE_DIR: join(tmp, 'cache'),
    },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Files written by this (root) process into the learner's folders go to the learner. */
function handToLearner(): void {
  if (asRoot) execFileSync('chown', ['-R', 'nobody:nogroup', tmp]);
}

function check(step: StepInfo): { code: number | null; result: RunResult } {
  const out = join(tmp, `result-${step.number}.json`);
  const r = sandbox(
    'check',
    '--workspace',
    workspace,
    '--step',
    String(step.number),
    '--only',
    // Local services: container grading has a suite of its own (checker/test/containers-grading).
    '--services',
    'local',
    '--format',
    'json',
    '--out',
    out,
  );
  if (!existsSync(out))
    throw new Error(`sandbox check wrote no result (exit ${r.code}):\n${r.stderr}`);
  return { code: r.code, result: JSON.parse(readFileSync(out, 'utf8')) as RunResult };
}

function expectFailsPointingToLesson(step: StepInfo): void {
  const { code, result } = check(step);
  expect(code).toBe(1);
  const graded = result.steps.find((s) => s.slug === step.slug);
  expect(graded?.status).toBe('fail');
  const failing = graded?.checks.filter((c) => c.status !== 'pass') ?? [];
  expect(failing.length).toBeGreaterThan(0);
  // Shown when no failing check points to the lesson: what each said, and a set-up failure (the
  // checks' hints are empty then).
  const seen = {
    setupFailure: result.setupFailure ?? null,
    failing: failing.map((c) => ({ name: c.name, message: c.message, hint: c.hint })),
  };
  expect(
    failing.some((c) => c.hint.includes(`steps/${step.folder}/README.md`)) ? 'yes' : seen,
  ).toBe('yes');
}

beforeAll(() => {
  if (!existsSync(join(root, 'checker/dist/cli.js')))
    throw new Error('checker/dist is missing: run `npm run build -w checker` first');
  tmp = mkdtempSync(join(tmpdir(), 'course-walkthrough-'));
  workspace = join(tmp, 'my-backend');
  mkdirSync(join(tmp, 'home'));
  handToLearner();
  if (asRoot) Object.assign(process.env, GIT_TRUSTS_ALL);
  // One Postgres for every check of the walkthrough, as a learner keeps one warm.
  const up = sandbox('services', 'up');
  if (up.code !== 0) throw new Error(`sandbox services up failed:\n${up.stderr}`);
}, 60_000);
afterAll(() => {
  for (const key of Object.keys(GIT_TRUSTS_ALL)) delete process.env[key];
  if (tmp) sandbox('services', 'down');
  rmSync(tmp, { recursive: true, force: true });
}, 60_000);

describe('a learner walks through the course with the sandbox CLI', () => {
  it('sandbox init creates a git workspace from the starter and says what to do next', () => {
    const r = sandbox('init', workspace);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('npm run check -- --step 1');
    expect(readFileSync(join(workspace, 'src/server.ts'), 'utf8')).toContain('// TODO:');
    const log = spawnSync('git', ['log', '--oneline'], { cwd: workspace, encoding: 'utf8' });
    expect(log.stdout.trim().split('\n')).toHaveLength(1);
    // The course's libraries come from the repository's install (a learner runs npm install).
    symlinkSync(join(root, 'node_modules'), join(workspace, 'node_modules'), 'dir');
    handToLearner();
  });

  it('the starter fails step 1, pointing to its lesson', () => {
    expectFailsPointingToLesson(steps[0] as StepInfo);
  }, 200_000);

  it('status shows step 1 failing; hint reveals one more hint each time; solution stays closed', () => {
    const status = sandbox('status', '--workspace', workspace);
    expect(status.stdout).toMatch(/✗\s+1 hello-server/);
    expect(status.stdout).toContain('Next: step 1');
    expect(sandbox('hint', '--workspace', workspace).stdout).toContain('Hint 1 of 3 (new)');
    const second = sandbox('hint', '--workspace', workspace).stdout;
    expect(second).toContain('Hint 2 of 3 (new)');
    expect(second).not.toContain('Hint 3 of 3');
    const solution = sandbox('solution', '--workspace', workspace, '--step', '1');
    expect(solution.code).toBe(1);
    expect(solution.stderr).toContain('has not passed yet');
  });

  it('every step has its reference change (steps/NN-slug/reference.patch)', () => {
    expect(steps.filter((s) => !hasReference(s)).map((s) => s.folder)).toEqual([]);
  });

  // One state after another in the same workspace, serially: state N = starter + patches 1..N.
  for (const step of steps) {
    it(`with the reference change of ${step.folder} applied, passes step ${step.number}, then fails the next one`, () => {
      applyReference(workspace, step);
      handToLearner();
      const passed = check(step);
      // The failing checks' messages are part of the comparison, so a red run says why.
      const graded = passed.result.steps.map((s) => ({
        slug: s.slug,
        status: s.status,
        failing: s.checks.filter((c) => c.status !== 'pass').map((c) => `${c.name}: ${c.message}`),
      }));
      expect(graded).toEqual([{ slug: step.slug, status: 'pass', failing: [] }]);
      expect(passed.code).toBe(0);
      // Built by esbuild, which checks no types: every state is also type-correct (tsc --noEmit).
      expect(passed.result.typeCheck).toMatchObject({ status: 'pass', errorCount: 0 });
      const solution = sandbox('solution', '--workspace', workspace, '--step', String(step.number));
      expect(solution.code).toBe(0);
      expect(solution.stdout).toContain(`Reference change for step ${step.number}: ${step.title}`);
      expect(solution.stdout).toContain(`diff --git a/src/`);
      const next = steps[step.number];
      if (!next) return;
      expectFailsPointingToLesson(next);
      const locked = sandbox('solution', '--workspace', workspace, '--step', String(next.number));
      expect(locked.code).toBe(1);
      expect(locked.stderr).toContain('has not passed yet');
    }, 400_000);
  }
});
