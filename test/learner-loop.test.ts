import { spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { courseRoot, loadSteps, type StepInfo } from '../checker/src/course/paths';
import { applyReference } from '../checker/src/course/references';
import { descendants } from '../checker/src/sandbox/process-tree';

// The learner's loop from inside a workspace, through the starter's own `npm run check` /
// `npm run sandbox --` scripts: init, check from a subfolder, status, hint, solution, an
// interrupt at each phase (install, build, services, checks, dispose) and whose runs record progress.
const root = courseRoot(__dirname);
const step1 = loadSteps(root)[0] as StepInfo;
const cli = join(root, 'checker/bin/sandbox.js');

let tmp: string;
let workspace: string;
let subfolder: string;

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Every process under npm when the signal was sent (the checker, its services, the app, npm's children). */
  tree: number[];
  checkerPid?: number;
}

const env = (): NodeJS.ProcessEnv => {
  const e: NodeJS.ProcessEnv = {
    ...process.env,
    NO_COLOR: '1',
    SANDBOX_STATE_DIR: join(tmp, 'state'),
    SANDBOX_WARM_SERVICES: 'off',
  };
  delete e['SANDBOX_WORKSPACE'];
  return e;
};

/** `npm run <args>` in `cwd`; with `interrupt`, sends the signal to npm once stderr shows `on`. */
function npmRun(
  args: string[],
  cwd: string,
  interrupt?: { on: RegExp; signal: NodeJS.Signals },
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', ...args], { cwd, env: env() });
    let stdout = '';
    let stderr = '';
    let tree: number[] = [];
    let checkerPid: number | undefined;
    let sent = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`npm run ${args.join(' ')} did not end in 150 s:\n${stderr}`));
    }, 150_000);
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (interrupt && !sent && interrupt.on.test(stderr)) {
        sent = true;
        tree = descendants(child.pid!);
        checkerPid = tree[0];
        child.kill(interrupt.signal);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: code ?? (signal ? 128 : null),
        stdout,
        stderr,
        tree,
        ...(checkerPid ? { checkerPid } : {}),
      });
    });
  });
}

function sandbox(
  args: string[],
  cwd = root,
): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, env: env(), encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const progressFile = (): string => join(workspace, '.sandbox', 'progress.json');
const progress = (): string => readFileSync(progressFile(), 'utf8');

function stillAlive(pids: number[]): number[] {
  return pids.filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
    } catch {
      return false;
    }
  });
}

/** Run folders (private Postgres, Redis) and cgroups that carry the checker's pid in their name. */
function leftoversOf(pid: number): string[] {
  const runs = join(tmpdir(), `backend-sandbox-runs-${process.getuid?.() ?? 'u'}`);
  const found = existsSync(runs) ? readdirSync(runs).filter((d) => d.includes(`-${pid}-`)) : [];
  for (const controller of ['pids', 'memory']) {
    const dir = join('/sys/fs/cgroup', controller);
    if (!existsSync(dir)) continue;
    found.push(
      ...readdirSync(dir).filter((d) => d.startsWith('backend-sandbox-') && d.includes(`${pid}`)),
    );
  }
  return found;
}

/** An interrupted run: the signal's exit code, "Interrupted" and no advice, nothing left, progress untouched. */
async function expectCleanInterrupt(
  dir: string,
  on: RegExp,
  signal: NodeJS.Signals,
  before: string | undefined,
  ws: string = workspace,
): Promise<void> {
  const r = await npmRun(['check', '--', '--step', '1', '--services', 'local'], dir, {
    on,
    signal,
  });
  expect({ sentAt: on.source, code: r.code }).toEqual({
    sentAt: on.source,
    code: signal === 'SIGINT' ? 130 : 143,
  });
  expect(r.stderr).toContain('Interrupted');
  expect(`${r.stdout}${r.stderr}`).not.toMatch(/Next: fix|Fix what|run it again/);
  expect(r.checkerPid).toBeDefined();
  expect(stillAlive(r.tree)).toEqual([]);
  expect(leftoversOf(r.checkerPid!)).toEqual([]);
  const file = join(ws, '.sandbox', 'progress.json');
  expect(existsSync(file) ? readFileSync(file, 'utf8') : undefined).toBe(before);
}

beforeAll(() => {
  if (!existsSync(join(root, 'checker/dist/cli.js')))
    throw new Error('checker/dist is missing: run `npm run build -w checker` first');
  tmp = mkdtempSync(join(tmpdir(), 'learner-loop-'));
  workspace = join(tmp, 'my-backend');
  subfolder = join(workspace, 'src', 'deep');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("the learner's loop from inside the workspace", () => {
  it('init makes a workspace that knows its course and says to use npm run check there', () => {
    const r = sandbox(['init', workspace]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('npm run check -- --step 1');
    expect(JSON.parse(readFileSync(join(workspace, '.sandbox/course.json'), 'utf8'))).toEqual({
      course: root,
    });
    // The course's libraries come from the repository's install (a learner runs npm install).
    symlinkSync(join(root, 'node_modules'), join(workspace, 'node_modules'), 'dir');
    mkdirSync(subfolder, { recursive: true });
  });

  it('npm run check from a subfolder grades the workspace, prints each check once and records the run', async () => {
    const r = await npmRun(['check', '--', '--step', '1', '--services', 'local'], subfolder);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL Step 1: Hello, server \(hello-server\) {2}0\/\d+/);
    expect(r.stdout).toMatch(
      /Next: fix ".+" \(steps\/01-hello-server\/README\.md\), then run `npm run check -- --step 1`/,
    );
    expect(r.stderr).not.toMatch(/^\s+[✓✗!] /m); // the report lists the checks; the live lines do not repeat them
    const recorded = JSON.parse(progress()) as { steps: Record<string, { maxScore: number }> };
    expect(recorded.steps['hello-server']?.maxScore).toBeGreaterThanOrEqual(13);
  }, 160_000);

  it('status, hint and solution work from the subfolder and say the commands that work there', async () => {
    const status = await npmRun(['sandbox', '--', 'status'], subfolder);
    expect(status.stdout).toMatch(/✗\s+1 hello-server\s+0\/\d+\s+failing/);
    expect(status.stdout).toContain('check: `npm run check -- --step 1`');
    const hint = await npmRun(['sandbox', '--', 'hint'], subfolder);
    expect(hint.stdout).toContain('Hint 1 of 3 (new)');
    expect(hint.stdout).toContain('`npm run sandbox -- hint --step 1` reveals hint 2');
    const after = await npmRun(['sandbox', '--', 'status'], subfolder);
    expect(after.stdout).toMatch(/1 hello-server .*· 1 hint revealed/);
    const solution = await npmRun(['sandbox', '--', 'solution', '--step', '1'], subfolder);
    expect(solution.code).toBe(1);
    expect(solution.stderr).toContain('has not passed yet');
  }, 60_000);

  it('a damaged .sandbox/feedback.json is named with its line, and status still shows the progress', async () => {
    writeFileSync(
      join(workspace, '.sandbox/feedback.json'),
      '[{"author": "m", "message": "x", "at": "2026-01-01"},]',
    );
    const status = await npmRun(['sandbox', '--', 'status'], subfolder);
    expect(status.code).toBe(0);
    expect(status.stderr).toContain('feedback.json is not valid JSON: line 1, column 54');
    expect(status.stdout).toMatch(/✗\s+1 hello-server/);
    rmSync(join(workspace, '.sandbox/feedback.json'));
  }, 30_000);

  describe('an interrupt at each phase stops everything, exits 130/143, and leaves the progress as it was', () => {
    it('during the install (SIGTERM)', async () => {
      const dir = join(tmp, 'slow-install');
      mkdirSync(join(dir, 'scripts'), { recursive: true });
      cpSync(join(workspace, 'scripts/sandbox.js'), join(dir, 'scripts/sandbox.js'));
      mkdirSync(join(dir, '.sandbox'));
      writeFileSync(join(dir, '.sandbox/course.json'), JSON.stringify({ course: root }));
      writeFileSync(join(dir, 'slow.js'), 'setTimeout(() => {}, 60000);\n');
      writeFileSync(
        join(dir, 'server.js'),
        'require("node:http").createServer((q, s) => s.end("{}")).listen(process.env.PORT);\n',
      );
      writeFileSync(
        join(dir, 'package.json'),
        JSON.stringify({
          name: 'slow-install',
          private: true,
          // From the registry: a contained run refuses path dependencies (INSTALL_REFUSED).
          dependencies: { 'is-number': '7.0.0' },
          scripts: {
            preinstall: 'node slow.js',
            start: 'node server.js',
            check: 'exec node scripts/sandbox.js check',
          },
        }),
      );
      await expectCleanInterrupt(dir, /npm (install|ci)\b[^\n]*\.\.\./, 'SIGTERM', undefined, dir);
    }, 160_000);

    it('during the build (SIGINT)', async () => {
      const before = progress();
      appendFileSync(join(workspace, 'src/server.ts'), '\n// edited: the build runs again\n');
      await expectCleanInterrupt(subfolder, /npm run build\.\.\./, 'SIGINT', before);
    }, 160_000);

    it('while Postgres starts (SIGTERM)', async () => {
      await expectCleanInterrupt(subfolder, /Starting Postgres\.\.\./, 'SIGTERM', progress());
    }, 160_000);

    it('during the checks (SIGINT)', async () => {
      await expectCleanInterrupt(subfolder, /Step 1: Hello, server/, 'SIGINT', progress());
    }, 160_000);

    it('while the run is disposed (SIGTERM)', async () => {
      await expectCleanInterrupt(
        subfolder,
        /Stopping the app and the services/,
        'SIGTERM',
        progress(),
      );
    }, 160_000);
  });

  it('a passed step keeps its solution open when a later run fails it', async () => {
    applyReference(workspace, step1);
    const pass = await npmRun(['check', '--', '--step', '1', '--services', 'local'], subfolder);
    expect([pass.code, pass.stdout]).toEqual([0, expect.stringContaining('PASS Step 1')]);
    spawnSync('git', ['checkout', '--', 'src'], { cwd: workspace });
    const fail = await npmRun(
      ['check', '--', '--step', '1', '--only', '--services', 'local'],
      subfolder,
    );
    expect(fail.code).toBe(1);
    const solution = await npmRun(['sandbox', '--', 'solution', '--step', '1'], subfolder);
    expect(solution.code).toBe(0);
    expect(solution.stdout).toContain('Reference change for step 1');
    const status = await npmRun(['sandbox', '--', 'status'], subfolder);
    expect(status.stdout).toMatch(/✗\s+1 hello-server .*failing \(it passed before\)/);
  }, 300_000);

  it("a grader's run on someone's workspace, or --no-progress, records nothing there", () => {
    const before = progress();
    const copy = join(tmp, 'graders-checkout');
    cpSync(workspace, copy, { recursive: true, verbatimSymlinks: true });
    rmSync(join(copy, '.sandbox/course.json'));
    const graded = sandbox([
      'check',
      '--workspace',
      copy,
      '--step',
      '1',
      '--only',
      '--services',
      'local',
    ]);
    expect(graded.code).toBe(1);
    expect(readFileSync(join(copy, '.sandbox/progress.json'), 'utf8')).toBe(before);
    const quiet = sandbox(
      ['check', '--step', '1', '--only', '--services', 'local', '--no-progress'],
      workspace,
    );
    expect(quiet.code).toBe(1);
    expect(progress()).toBe(before);
  }, 300_000);
});
