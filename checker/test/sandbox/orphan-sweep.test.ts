import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sweepOrphanCgroups } from '../../src/sandbox/limits';

const PIDS_ROOT = '/sys/fs/cgroup/pids';

/** A pid that belonged to a process which has exited: the "dead checker" owning the cgroup. */
function deadPid(): number {
  const r = spawnSync('true');
  if (r.pid === undefined || existsSync(`/proc/${r.pid}`)) throw new Error('no dead pid to use');
  return r.pid;
}

describe('sweepOrphanCgroups', () => {
  it('kills an app left running in the cgroup of a checker that died, and removes the cgroup', async () => {
    const group = path.join(PIDS_ROOT, `backend-sandbox-${deadPid()}-12345-test01`);
    mkdirSync(group); // this machine is a root host with cgroups v1: local-mode limits rely on it
    const orphan = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    const exited = new Promise<string | null>((resolve) =>
      orphan.once('exit', (_c, sig) => resolve(sig)),
    );
    try {
      writeFileSync(path.join(group, 'cgroup.procs'), String(orphan.pid));
      sweepOrphanCgroups();
      expect(await exited).toBe('SIGKILL');
      expect(existsSync(group)).toBe(false);
    } finally {
      if (orphan.exitCode === null && orphan.signalCode === null) orphan.kill('SIGKILL');
    }
  });
});
