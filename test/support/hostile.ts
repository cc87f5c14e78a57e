import { randomBytes } from 'node:crypto';
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { ownerTag } from '../../checker/src/sandbox/owner';
import { fencedUids } from '../../checker/src/sandbox/network-fence';
import { leasedUids, processesOf } from '../../checker/src/sandbox/run-user';
import { runDirsBase } from '../../checker/src/sandbox/run-dir';
import { ROOT } from './grade-workspace';

export const HOSTILE_DIR = path.join(ROOT, 'test', 'hostile');

/**
 * A copy of a hostile fixture inside the course (.sandbox/, so its dependencies resolve from the
 * course's node_modules as a learner's workspace in the monorepo would), with a nonce so its
 * build is never a cached one.
 */
export function hostileWorkspace(name: string): string {
  const dir = path.join(ROOT, '.sandbox', `hostile-${name}-${randomBytes(3).toString('hex')}`);
  cpSync(path.join(HOSTILE_DIR, name), dir, { recursive: true });
  writeFileSync(path.join(dir, 'nonce.txt'), randomBytes(8).toString('hex'));
  return dir;
}

export const removeWorkspace = (dir: string): void => rmSync(dir, { recursive: true, force: true });

/** What the runs of a checker (`owner`, this test process by default) left: its uid's processes, fence, lease; its cgroups and run dirs. */
export function leftovers(uids: number[], owner: string = ownerTag()): string[] {
  const left: string[] = [];
  const fenced = new Set(fencedUids());
  const leased = leasedUids();
  for (const uid of uids) {
    if (processesOf(uid).length) left.push(`processes of uid ${uid}`);
    if (fenced.has(uid)) left.push(`iptables chain BSBX-${uid}`);
    if (leased.has(uid)) left.push(`lease of uid ${uid}`);
  }
  const mine = `backend-sandbox-${owner}-`;
  for (const c of ['pids', 'memory', 'cpu']) {
    let names: string[] = [];
    try {
      names = readdirSync(path.join('/sys/fs/cgroup', c));
    } catch {
      continue;
    }
    for (const n of names) if (n.startsWith(mine)) left.push(`cgroup ${c}/${n}`);
  }
  let dirs: string[] = [];
  try {
    dirs = readdirSync(runDirsBase());
  } catch {
    // none yet
  }
  for (const d of dirs) if (d.startsWith(`${owner}-`)) left.push(`run dir ${d}`);
  return left;
}

/** Hash of the course files a submission must not change (checks, checker, the reference's build). */
export function courseFilesHash(): string {
  const h = createHash('sha256');
  const walk = (dir: string): void => {
    let names: string[] = [];
    try {
      names = readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.name !== 'node_modules')
        .map((d) => (d.isDirectory() ? `${d.name}/` : d.name))
        .sort();
    } catch {
      return;
    }
    for (const n of names) {
      const p = path.join(dir, n);
      if (n.endsWith('/')) walk(p);
      else h.update(p).update(readFileSync(p));
    }
  };
  for (const d of ['steps', 'checker/src', 'checker/dist', 'reference-app/dist'])
    walk(path.join(ROOT, d));
  return h.digest('hex');
}

/** Processes whose command line carries `marker` (a hostile daemon's). */
export function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n) || Number(n) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${n}/cmdline`, 'utf8').includes(marker)) found.push(Number(n));
    } catch {
      // exited
    }
  }
  return found;
}
