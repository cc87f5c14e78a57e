import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { SetupError } from '../app/setup-error';
import { courseRoot } from '../course/paths';
import { cacheDir } from '../services/cache-dir';
import { CHROOT, SETPRIV, UNSHARE } from './confine';
import { removeViewScript } from './filesystem-view';
import { fenceAvailable, fencedUids, removeFence } from './network-fence';
import { sweepOrphanCgroups } from './limits';
import { leasedUids, RUN_UID_FIRST, sweepRunUsers } from './run-user';
import { sweepRunDirs } from './run-dir';

/** How a process run will go: contained (own uid, cgroups, fence, hidden course), or why not. */
export type ContainmentPlan =
  { contained: true } | { contained: false; reason: string; dropToRunUser: boolean };

const cgroupsWritable = (): boolean =>
  ['pids', 'memory'].every((c) => {
    try {
      return statSync(path.join('/sys/fs/cgroup', c)).isDirectory() && isRoot();
    } catch {
      return false;
    }
  });

const isRoot = (): boolean => process.getuid?.() === 0;

let canDrop: boolean | undefined;
/** Can this process start a child as an unused uid (root with CAP_SETUID)? */
function canDropPrivileges(): boolean {
  canDrop ??=
    isRoot() &&
    spawnSync('/bin/true', [], { uid: RUN_UID_FIRST, gid: RUN_UID_FIRST, timeout: 10_000 })
      .status === 0;
  return canDrop;
}

/**
 * Decides, before any of the workspace's code runs, whether the run can be contained.
 * A learner checking their own workspace as an ordinary user runs it as themselves, as ever.
 * As root, the run is contained when unshare/setpriv, cgroups and iptables are all there; when
 * only some are, the code still runs as the run's own uid, reported not contained; with no way
 * to drop privileges, the run is refused (exit 2): learner code never runs as root.
 */
export function planContainment(workspace: string): ContainmentPlan {
  if (!isRoot()) {
    const own = statSync(workspace).uid === process.getuid?.();
    return {
      contained: false,
      dropToRunUser: false,
      reason: own
        ? 'your own workspace, run as you'
        : 'the checker is not root, so it cannot give the run a uid of its own: it runs as the checker’s user',
    };
  }
  if (!UNSHARE || !SETPRIV || !CHROOT || !canDropPrivileges())
    throw new SetupError(
      'checker',
      'CANNOT_DROP_PRIVILEGES',
      'The checker runs as root but cannot run the workspace as an unprivileged uid (it needs setpriv and unshare from util-linux, chroot from coreutils, and CAP_SETUID). It refuses to run learner code as root.',
    );
  const missing = [
    ...(cgroupsWritable() ? [] : ['no writable cgroups (pids, memory)']),
    ...(fenceAvailable() ? [] : ['no iptables with the owner match for the network fence']),
  ];
  return missing.length
    ? {
        contained: false,
        dropToRunUser: true,
        reason: `run as a uid of its own, but ${missing.join(' and ')}`,
      }
    : { contained: true };
}

/** Folders a contained run must not see: the course's checks, references, tests, other runs' copies, the checker and its caches. */
export function hiddenFolders(): string[] {
  const hidden = [path.resolve(__dirname, '..', '..'), cacheDir()];
  try {
    const root = courseRoot();
    for (const d of ['checker', 'reference-app', 'steps', 'test', '.sandbox'])
      hidden.push(path.join(root, d));
  } catch {
    // the checker runs outside a course checkout (installed from npm): its own folder is hidden above
  }
  return [...new Set(hidden)].filter((d) => existsSync(d) && reachableByOthers(path.dirname(d)));
}

/** Every folder from / down to `dir` lets others through (o+x): else nothing under it needs hiding. */
function reachableByOthers(dir: string): boolean {
  for (let d = dir; ; d = path.dirname(d)) {
    try {
      if ((statSync(d).mode & 0o001) === 0) return false;
    } catch {
      return false;
    }
    if (path.dirname(d) === d) return true;
  }
}

export function courseRootOrUndefined(): string | undefined {
  try {
    return courseRoot();
  } catch {
    return undefined;
  }
}

/** What contained runs of checkers that died left: processes of their uids, fences, leases, cgroups, run dirs. */
export function sweepContainedLeftovers(): void {
  sweepRunUsers((uid) => {
    removeFence(uid);
    removeViewScript(uid);
  });
  sweepOrphanCgroups();
  sweepRunDirs();
}

/** Fences whose uid has no lease at all (removed by hand): `sandbox doctor`-style cleanup, too slow for every run. */
export function sweepUnleasedFences(): void {
  if (!fenceAvailable()) return;
  const leased = leasedUids();
  for (const uid of fencedUids()) if (!leased.has(uid)) removeFence(uid);
}
