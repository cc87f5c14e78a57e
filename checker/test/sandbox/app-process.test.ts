import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AppProcess, isSimpleCommand } from '../../src/sandbox/app-process';
import {
  createAppSandbox,
  MEMORY_MAX_BYTES,
  PIDS_MAX,
  type AppSandbox,
} from '../../src/sandbox/limits';
import { LogBuffer } from '../../src/app/log-buffer';
import { descendants } from '../../src/sandbox/process-tree';
import { readWorkspace } from '../../src/workspace/workspace';
import { freePort } from '../../src/services/ports';
import { stillAlive } from '../support/leftovers';
import { writeTinyApp, type TinyApp } from '../support/tiny-app';

const sandboxes: AppSandbox[] = [];

async function startTiny(
  tiny: TinyApp,
  env: Record<string, string> = {},
  readyTimeoutMs?: number,
): Promise<AppProcess> {
  const ws = readWorkspace(tiny.dir);
  const sandbox = createAppSandbox(ws.dir);
  sandboxes.push(sandbox);
  return new AppProcess({
    workspace: ws,
    port: await freePort(),
    env,
    sandbox,
    ...(readyTimeoutMs ? { readyTimeoutMs } : {}),
  });
}

describe('the app process', () => {
  const apps: TinyApp[] = [];
  const procs: AppProcess[] = [];
  const tiny = (opts?: Parameters<typeof writeTinyApp>[0]): TinyApp => {
    const t = writeTinyApp(opts);
    apps.push(t);
    return t;
  };
  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.kill()));
    for (const sb of sandboxes.splice(0)) sb.dispose();
    for (const a of apps.splice(0)) a.remove();
  });

  it('execs a single-command start script but runs compound ones through sh', () => {
    expect(isSimpleCommand('node dist/server.js')).toBe(true);
    expect(isSimpleCommand('node migrate.js && node server.js')).toBe(false);
    expect(isSimpleCommand('npm run serve')).toBe(false);
  });

  it('with a compound start script, signal() still reaches the node process and the exit code is its own', async () => {
    const proc = await startTiny(tiny({ start: 'node -e "0" && node server.js' }));
    procs.push(proc);
    await proc.start();
    proc.signal('SIGTERM');
    await expect(proc.waitForExit(5000)).resolves.toEqual({ code: 0, signal: null });
  });

  it('says which port the app listens on when it ignores PORT', async () => {
    const proc = await startTiny(tiny(), { TINY_PORT_OFFSET: '1' }, 1500);
    procs.push(proc);
    const err = await proc.start().catch((e: unknown) => e);
    expect(err).toMatchObject({
      kind: 'submission',
      code: 'APP_NOT_LISTENING',
      message: expect.stringMatching(
        new RegExp(
          `did not listen on PORT=${proc.port} within 1.5 s.*listens on port ${proc.port + 1}`,
        ),
      ),
    });
    expect(proc.running).toBe(false);
  });

  it('reports an app that exits before listening, with its last output', async () => {
    const proc = await startTiny(
      tiny({
        start: 'node crash.js',
        files: { 'crash.js': 'console.error("JWT_SECRET is missing"); process.exit(3);' },
      }),
    );
    procs.push(proc);
    const err = await proc.start().catch((e: unknown) => e);
    expect(err).toMatchObject({
      kind: 'submission',
      code: 'APP_EXITED',
      message: expect.stringContaining('exited with code 3'),
      logs: expect.stringContaining('JWT_SECRET is missing'),
    });
  });

  it('a memory hog is killed at the memory limit, and the run says the app was killed', async () => {
    // 128 MiB at a time, every page written, up to twice the limit: the kernel ends it on the way.
    const hog = `const held = []; for (let i = 0; i < ${(2 * MEMORY_MAX_BYTES) / 2 ** 27}; i++) held.push(Buffer.alloc(2 ** 27, 1)); console.log("held", held.length); require("./server.js");`;
    const ws = readWorkspace(tiny({ start: 'node hog.js', files: { 'hog.js': hog } }).dir);
    const sandbox = createAppSandbox(ws.dir);
    sandboxes.push(sandbox);
    // A root checker (a grading machine, CI) has a memory cgroup; only an ordinary user's may not.
    if (process.getuid?.() !== 0) return expect(sandbox.describe()).toMatch(/^(no )?cgroups/);
    expect(sandbox.describe()).toMatch(/^cgroups \S*memory/);
    const proc = new AppProcess({ workspace: ws, port: await freePort(), env: {}, sandbox });
    procs.push(proc);
    const err = await proc.start().catch((e: unknown) => e);
    expect(err).toMatchObject({
      kind: 'submission',
      code: 'APP_EXITED',
      message: expect.stringContaining('was killed by SIGKILL'),
      logs: expect.not.stringContaining('held'), // it never got the memory it asked for
    });
    expect(proc.running).toBe(false);
    expect(sandbox.pids()).toEqual([]);
  }, 60_000);

  it('a fork bomb stops at the pids limit and kill() still clears every process', async () => {
    const bomb =
      'const { spawn } = require("node:child_process"); for (let i = 0; i < 700; i++) { try { spawn("sleep", ["60"], { stdio: "ignore" }).on("error", () => {}); } catch {} } require("./server.js");';
    const ws = readWorkspace(tiny({ start: 'node bomb.js', files: { 'bomb.js': bomb } }).dir);
    // As root, the bomb runs as root in its cgroups (pids.max is what stops it), not as the shared
    // `nobody`: its 512 tasks would count against every other uncontained run's nobody.
    const sandbox = createAppSandbox(ws.dir, { unprivileged: false });
    const proc = new AppProcess({ workspace: ws, port: await freePort(), env: {}, sandbox });
    procs.push(proc);
    await proc.start();
    const pid = proc.pid!;
    const children = descendants(pid);
    expect(children.length).toBeGreaterThan(0);
    // With a writable cgroup fs the 700 spawns stop at pids.max. A root checker (a grading
    // machine, CI) must have one; only an ordinary user's machine may lack it.
    const limited = sandbox.describe().startsWith('cgroups');
    if (process.getuid?.() === 0) expect(limited).toBe(true);
    if (limited) expect(children.length).toBeLessThan(PIDS_MAX);
    const t0 = Date.now();
    await proc.kill();
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(stillAlive([pid, ...children])).toEqual([]);
    sandbox.dispose();
  }, 30_000);
});

describe('the task limit of an ordinary user', () => {
  it('counts from what the user already runs: with 600 tasks of its own, its node still starts', () => {
    const dir = writeTinyApp().dir;
    try {
      // As root, a uid nothing else uses (no account): the user's tasks are the child's alone.
      const asUser =
        process.getuid?.() === 0
          ? ['/usr/bin/setpriv', '--reuid=299999', '--regid=299999', '--clear-groups']
          : [];
      const argv = [
        ...asUser,
        process.execPath,
        '--import',
        'tsx',
        path.join(__dirname, '..', 'support', 'nproc-child.ts'),
        dir,
        '600',
      ];
      const r = spawnSync(argv[0]!, argv.slice(1), {
        encoding: 'utf8',
        timeout: 60_000,
        cwd: path.join(__dirname, '..', '..', '..'),
        env: { ...process.env, HOME: tmpdir() },
      });
      const said = JSON.parse(r.stdout.trim().split('\n').pop() || '{}') as Record<string, unknown>;
      // Under a flat nproc of 512 the 600 sleeping tasks left node no thread: SIGABRT at start.
      expect({ said, stderr: r.stderr.slice(-2000) }).toMatchObject({
        said: {
          status: 0,
          signal: null,
          stdout: 'up',
          describe: expect.stringMatching(/nproc<=\d+/),
        },
      });
      const limit = Number(/nproc<=(\d+)/.exec(String(said.describe))?.[1]);
      expect(limit).toBeGreaterThanOrEqual(600 + PIDS_MAX);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 70_000);
});

describe('LogBuffer', () => {
  it('keeps only the newest output when flooded', () => {
    const log = new LogBuffer(1000);
    for (let i = 0; i < 10_000; i++) log.append(`line ${i}\n`);
    const tail = log.tail(1000);
    expect(tail.length).toBeLessThanOrEqual(1000);
    expect(tail.endsWith('line 9999')).toBe(true);
    expect(log.tail(2)).toBe('line 9998\nline 9999');
  });
});
