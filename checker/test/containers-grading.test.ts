import { spawn } from 'node:child_process';
import path from 'node:path';
import { grade } from '../src/runner/grade';
import { prepareRun } from '../src/runner/session';
import { countOwnedBy, ENGINE_SETUP_HINT, findEngine, useEngine } from '../src/engine';

jest.setTimeout(600_000);

const ROOT = path.join(__dirname, '..', '..');
const REFERENCE = path.join(ROOT, 'reference-app');
const HOSTILE = path.join(__dirname, 'fixtures', 'hostile-app');
const CLI = path.join(ROOT, 'checker', 'bin', 'sandbox.js');
const NONE = { containers: 0, networks: 0, volumes: 0 };

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `sandbox check` in a child; `interruptWhen` sends SIGINT once stderr matches. */
function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  interruptWhen?: RegExp,
): Promise<CliRun & { pid: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    let sent = false;
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (interruptWhen && !sent && interruptWhen.test(stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    child.on('close', (code) => resolve({ code, stdout, stderr, pid: child.pid ?? -1 }));
  });
}

describe('grading in containers', () => {
  beforeAll(async () => {
    // Under CI and locally alike, no engine is a failure that says how to get one (never a silent skip).
    if (!(await findEngine())) throw new Error(ENGINE_SETUP_HINT);
    await useEngine();
  });

  it('grades the reference app in the container runtime: every step passes, nothing is left behind', async () => {
    const result = await grade(
      { workspace: REFERENCE, runtime: 'container', services: 'auto', timeoutSeconds: 420 },
      prepareRun,
    );
    const failing = result.steps.flatMap((s) =>
      s.checks.filter((c) => c.status !== 'pass').map((c) => `${s.slug}: ${c.name}: ${c.message}`),
    );
    expect(failing).toEqual([]);
    expect(result.steps).toHaveLength(9);
    expect(result.status).toBe('pass');
    expect(result.score).toBe(result.maxScore);
    expect(await countOwnedBy(process.pid)).toEqual(NONE);
  });

  it('grades the reference beside a hostile run that scans every port it can name: full marks, and the hostile run reaches only its own relays', async () => {
    const hostile = await prepareRun({
      workspace: HOSTILE,
      runtime: 'container',
      services: 'auto',
    });
    const opened = new Set<string>();
    let scans = 0;
    let attacking = true;
    try {
      expect(hostile.runtime).toMatchObject({ kind: 'container', contained: true });
      const own = Object.values(hostile.context.env)
        .filter((v) => /^\w+:\/\//.test(v))
        .map((v) => new URL(v));
      const gateway = own.find((u) => u.hostname !== 'localhost')?.hostname ?? '10.88.0.1';
      const ownPorts = new Set(own.filter((u) => u.hostname === gateway).map((u) => u.port));
      // While the reference is graded, the hostile app sweeps its gateway's ports (where relays of
      // every run listen) and podman's default gateway, 200 at a time.
      const attacks = (async () => {
        for (let round = 0; attacking && round < 2000; round++) {
          const from = 1024 + ((round * 200) % 64_000);
          for (const host of [gateway, '10.88.0.1']) {
            const res = await fetch(
              `${hostile.context.app.url}/scan?host=${host}&from=${from}&count=200`,
              { signal: AbortSignal.timeout(30_000) },
            ).catch(() => undefined);
            const body = (await res?.json().catch(() => undefined)) as
              { open?: number[] } | undefined;
            if (body?.open) scans++;
            for (const port of body?.open ?? []) opened.add(`${host}:${port}`);
          }
        }
      })();
      const result = await grade(
        { workspace: REFERENCE, runtime: 'container', services: 'auto', timeoutSeconds: 540 },
        prepareRun,
      );
      attacking = false;
      await attacks;
      expect(scans).toBeGreaterThan(0); // the hostile app kept scanning while the reference was graded
      const failing = result.steps.flatMap((s) =>
        s.checks
          .filter((c) => c.status !== 'pass')
          .map((c) => `${s.slug}: ${c.name}: ${c.message}`),
      );
      expect(failing).toEqual([]);
      expect([result.score, result.status, result.runtime.contained]).toEqual([
        result.maxScore,
        'pass',
        true,
      ]);
      expect(
        [...opened].filter(
          (hp) => !ownPorts.has(hp.split(':')[1] ?? '') || !hp.startsWith(`${gateway}:`),
        ),
      ).toEqual([]);
    } finally {
      attacking = false;
      await hostile.dispose();
    }
    expect(await countOwnedBy(process.pid)).toEqual(NONE);
  }, 900_000);

  it('leaves no container, network or volume when the grading is interrupted with Ctrl-C', async () => {
    const run = await runCli(
      ['check', '--workspace', REFERENCE, '--runtime', 'container', '--step', '2'],
      {},
      /Step 1:/,
    );
    expect(run.stderr).toContain('Interrupted');
    expect(run.code).toBe(130);
    expect(await countOwnedBy(run.pid)).toEqual(NONE);
  });

  it('fails with exit 2 and says how to get an engine when none answers (CI=true changes nothing)', async () => {
    const run = await runCli(
      ['check', '--workspace', REFERENCE, '--services', 'containers', '--step', '1'],
      { CI: 'true', DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
    );
    expect(run.code).toBe(2);
    expect(run.stdout + run.stderr).toMatch(/No container engine answers.*setup-podman\.sh/s);
  });
});
