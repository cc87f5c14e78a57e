import { ENGINE_SETUP_HINT, findEngine } from '../../src/engine';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { alive } from '../../src/sandbox/process-tree';
import { json } from './support/service';

// A mentor's laptop end to end, through the built CLI: `sandbox serve` with the embedded
// default (private Postgres kept in a data folder, private Redis, one worker in-process),
// `cohort create`, `join`, `init`, `submit --wait --step 1` graded in the runtime the worker
// chooses (the contained process runtime as root with cgroups and iptables, as on CI; else
// containers), a note back to `sandbox status`. Needs the container engine and images (the
// fallback). About 2-3 min.
jest.setTimeout(600_000);

const CLI = path.join(__dirname, '..', '..', 'bin', 'sandbox.js');
let tmp: string;
let serve: ChildProcess;
let serveOut = '';
let url: string;
const env = (): NodeJS.ProcessEnv => ({
  ...process.env,
  NO_COLOR: '1',
  SANDBOX_CONFIG_DIR: path.join(tmp, 'config'),
  SANDBOX_STATE_DIR: path.join(tmp, 'state'),
  SANDBOX_MENTOR_EMAIL: 'grace@example.com',
  SANDBOX_MENTOR_PASSWORD: 'a-long-mentor-password',
  DATABASE_URL: '',
  REDIS_URL: '',
});

function sandbox(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const e = env();
  delete e['DATABASE_URL'];
  delete e['REDIS_URL'];
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: e,
    timeout: 400_000,
    cwd: tmp,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  // No engine is a failure that says how to get one (never a silent skip).
  if (!(await findEngine())) throw new Error(ENGINE_SETUP_HINT);
  tmp = mkdtempSync(path.join(os.tmpdir(), 'cohort-e2e-'));
  chmodSync(tmp, 0o755); // as root, the embedded Postgres runs as the postgres user and must reach its data folder
  const e = env();
  delete e['DATABASE_URL'];
  delete e['REDIS_URL'];
  serve = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data', path.join(tmp, 'data')], {
    env: e,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  serve.stdout!.on('data', (c: Buffer) => (serveOut += c.toString()));
  serve.stderr!.on('data', (c: Buffer) => (serveOut += c.toString()));
  const deadline = Date.now() + 120_000;
  while (!/listens on (\S+)/.test(serveOut) && Date.now() < deadline && serve.exitCode === null)
    await new Promise((r) => setTimeout(r, 100));
  const found = /listens on (\S+)/.exec(serveOut);
  if (!found) throw new Error(`sandbox serve did not start:\n${serveOut}`);
  url = found[1]!;
});

afterAll(async () => {
  if (serve && serve.exitCode === null) {
    serve.kill('SIGTERM');
    await new Promise((r) => serve.once('exit', r));
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

it('serve names its data folder, creates the first mentor, and the data outlives nothing it should not', () => {
  expect(serveOut).toContain(`data kept in ${path.join(tmp, 'data')}`);
  expect(serveOut).toContain('Created mentor');
  expect(existsSync(path.join(tmp, 'data', 'postgres', 'PG_VERSION'))).toBe(true);
  // The in-process worker says which runtime it grades in, and why.
  expect(serveOut).toMatch(
    /worker \S+: (process runtime \(contained on this machine\)|container runtime \(the process runtime is not contained here: .+\)); services: /,
  );
  expect(serveOut).toMatch(
    /grading: 1 worker slot\(s\) in this process, (process|container) runtime/,
  );
});

it('init, join, submit --wait: queued, grading, the check summary, the checker’s exit code; feedback reaches status', async () => {
  const created = sandbox(
    'cohort',
    'create',
    'Spring',
    '--server',
    url,
    '--email',
    'grace@example.com',
  );
  expect(created.code).toBe(0);
  const code = /Invite code: (\S+)/.exec(created.stdout)![1]!;
  const joined = sandbox('join', code, '--server', url, '--name', 'lin');
  expect(joined.code).toBe(0);
  // In a workspace `npx sandbox` would fetch an unrelated registry package: join names the script.
  expect(joined.stdout).toContain('`npm run sandbox -- submit --wait` in your workspace');
  const tokenFile = path.join(tmp, 'config', 'cohort.json');
  expect((JSON.parse(readFileSync(tokenFile, 'utf8')) as { token: string }).token).toMatch(/^sbl_/);
  expect(sandbox('init', path.join(tmp, 'ws')).code).toBe(0);
  const workspace = path.join(tmp, 'ws');

  const submitted = sandbox('submit', '--workspace', workspace, '--wait', '--step', '1');
  expect([submitted.code, submitted.stderr]).toEqual([
    1,
    expect.stringMatching(/queued[\s\S]*grading/),
  ]);
  expect(submitted.stdout).toMatch(/FAIL Step 1: Hello, server/);
  expect(submitted.stdout).toMatch(/score 0\/\d+/);
  // The token stays out of the workspace and its git tree.
  const grep = spawnSync('grep', ['-r', 'sbl_', workspace], { encoding: 'utf8' });
  expect(grep.stdout).toBe('');
  const progress = JSON.parse(
    readFileSync(path.join(workspace, '.sandbox', 'progress.json'), 'utf8'),
  ) as { steps: Record<string, { status: string }> };
  expect(progress.steps['hello-server']?.status).toBe('fail');

  // A mentor's note comes back with the next submit (the same content: no new submission) and shows in status.
  const session = await json<{ token: string }>(url, 'POST', '/api/mentor/session', {
    body: { email: 'grace@example.com', password: 'a-long-mentor-password' },
  });
  const cohorts = await json<{ cohorts: { id: string }[] }>(url, 'GET', '/api/cohorts', {
    token: session.body.token,
  });
  const cohortId = cohorts.body.cohorts[0]!.id;
  const learners = await json<{ learners: { id: string }[] }>(
    url,
    'GET',
    `/api/cohorts/${cohortId}/learners`,
    { token: session.body.token },
  );
  const note = await json(
    url,
    'POST',
    `/api/cohorts/${cohortId}/learners/${learners.body.learners[0]!.id}/notes`,
    {
      token: session.body.token,
      body: { step: 'hello-server', message: 'Start with the 404 handler.' },
    },
  );
  expect(note.status).toBe(201);
  // Submitted again the way join says, in the workspace with its npm script.
  const again = spawnSync('npm', ['run', 'sandbox', '--', 'submit', '--step', '1'], {
    encoding: 'utf8',
    env: env(),
    timeout: 120_000,
    cwd: workspace,
  });
  expect([again.status, again.stderr]).toEqual([0, expect.stringContaining('Already submitted')]);
  const status = sandbox('status', '--workspace', workspace);
  expect(status.stdout).toMatch(/Mentor feedback:[\s\S]*Start with the 404 handler\./);
});

it('cohort invite --close refuses new joins; --open prints a fresh code that works, the old one stays refused', () => {
  const created = sandbox(
    'cohort',
    'create',
    'Summer',
    '--server',
    url,
    '--email',
    'grace@example.com',
  );
  expect(created.code).toBe(0);
  const cohortId = /\(id (\S+)\)/.exec(created.stdout)![1]!;
  const oldCode = /Invite code: (\S+)/.exec(created.stdout)![1]!;
  const closed = sandbox(
    'cohort',
    'invite',
    cohortId,
    '--close',
    '--server',
    url,
    '--email',
    'grace@example.com',
  );
  expect([closed.code, closed.stdout]).toEqual([
    0,
    expect.stringContaining('invite code is closed'),
  ]);
  const refused = sandbox('join', oldCode, '--server', url, '--name', 'late');
  expect([refused.code, refused.stderr]).toEqual([2, expect.stringContaining('NOT_FOUND')]);
  const opened = sandbox(
    'cohort',
    'invite',
    cohortId,
    '--open',
    '--server',
    url,
    '--email',
    'grace@example.com',
  );
  expect(opened.code).toBe(0);
  const newCode = /new invite code: (\S+)/.exec(opened.stdout)![1]!;
  expect(newCode).not.toBe(oldCode);
  expect(sandbox('join', oldCode, '--server', url, '--name', 'late').code).toBe(2);
  expect(sandbox('join', newCode, '--server', url, '--name', 'late').code).toBe(0);
  expect(
    sandbox('cohort', 'invite', cohortId, '--server', url, '--email', 'grace@example.com').code,
  ).toBe(2);
});

it('Ctrl-C with its output piped to a reader that ended too (`serve | tee`) still stops the embedded Postgres', async () => {
  const pidFile = path.join(tmp, 'data', 'postgres', 'postmaster.pid');
  const postgres = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  expect(alive(postgres)).toBe(true);
  // The reader goes first, as tee does on the same Ctrl-C: what serve says while stopping meets EPIPE.
  serve.stdout!.destroy();
  serve.stderr!.destroy();
  const exited = new Promise<number | null>((r) => serve.once('exit', (code) => r(code)));
  serve.kill('SIGINT');
  expect(await exited).toBe(0);
  expect(alive(postgres)).toBe(false);
});
