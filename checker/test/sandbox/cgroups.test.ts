import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createCgroups } from '../../src/sandbox/limits';

// As root on a machine with cgroups v1 (this project's machines): the groups are created.
describe('the cgroups of a process tree', () => {
  it('a shell that joins them runs its command inside every group', () => {
    const cgroups = createCgroups();
    try {
      expect(cgroups.groups.length).toBeGreaterThanOrEqual(2); // pids and memory at least
      const r = spawnSync('/bin/sh', ['-c', `${cgroups.enterPrefix}cat /proc/self/cgroup`], {
        encoding: 'utf8',
      });
      expect(r.status).toBe(0);
      for (const group of cgroups.groups) expect(r.stdout).toContain(`/${path.basename(group)}\n`);
    } finally {
      cgroups.dispose();
    }
  });

  it('a shell that cannot join them stops (exit 125) instead of running its command without limits', () => {
    const cgroups = createCgroups();
    cgroups.dispose(); // the groups are gone: joining fails
    const r = spawnSync('/bin/sh', ['-c', `${cgroups.enterPrefix}echo ran`], { encoding: 'utf8' });
    expect(r.stdout).toBe('');
    expect(r.status).toBe(125);
    expect(readFileSync('/proc/self/cgroup', 'utf8')).not.toContain('backend-sandbox-');
  });
});
