import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createConfinedSandbox } from '../../src/sandbox/confined-sandbox';
import { removeViewScript, writeViewScript } from '../../src/sandbox/filesystem-view';
import { runCommand } from '../../src/sandbox/run-command';
import { leaseRunUser, releaseRunUser, type RunUser } from '../../src/sandbox/run-user';

// Root only, like every contained run (CI and grading machines run as root).
const asRoot = process.getuid?.() === 0;

describe('a confined command whose confinement cannot be set up', () => {
  let user: RunUser;
  let dir: string;
  let view: string;
  beforeAll(() => {
    if (!asRoot) throw new Error('these tests need root, as contained runs do');
    user = leaseRunUser();
    dir = mkdtempSync(path.join(os.tmpdir(), 'confinement-'));
    view = writeViewScript(user.uid, { show: [{ path: dir, writable: true }], hide: [] });
  });
  afterAll(() => {
    releaseRunUser(user);
    removeViewScript(user.uid);
    rmSync(dir, { recursive: true, force: true });
  });
  const sandbox = () => createConfinedSandbox({ user, viewScript: view, home: dir, tmp: dir });

  it('runs nothing and says so: the failure is the checker’s, with the confinement’s own output', async () => {
    const s = sandbox();
    s.dispose(); // its cgroups are gone before the command joins them
    const r = await runCommand('/bin/sh', ['-c', 'echo the workspace ran'], {
      cwd: dir,
      timeoutMs: 20_000,
      sandbox: s,
    });
    expect(r.code).toBe(125);
    expect(r.output).not.toContain('the workspace ran');
    expect(s.setupFailure?.()).toMatch(/cgroup\.procs/);
    expect(s.setupFailure?.()).toBeUndefined(); // taken once
  });

  it('never takes a workspace’s own exit code for one (an app cannot turn a fail into “could not grade”)', async () => {
    const s = sandbox();
    try {
      const r = await runCommand('/bin/sh', ['-c', 'exit 125'], {
        cwd: dir,
        timeoutMs: 20_000,
        sandbox: s,
      });
      expect(r.code).toBe(125);
      expect(s.setupFailure?.()).toBeUndefined();
    } finally {
      s.dispose();
    }
  });
});
