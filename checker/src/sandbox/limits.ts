import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { isRoot, lookupUser, type OsUser } from '../services/os-user';
import { orphaned, ownerTag } from './owner';

/**
 * Local-mode limits for the learner's processes. What works on a root host with cgroups v1:
 * a pids cgroup (pids.max: a fork bomb stops at the cap) and a memory cgroup
 * (memory.limit_in_bytes: a hog is OOM-killed inside it), which also list every process
 * for the final kill. RLIMIT_NPROC is not enforced for root, so as root the app runs as the
 * unprivileged `nobody` when it can read the workspace, with `prlimit --nproc` as a second fence.
 * Without a writable cgroup fs, only prlimit applies (and only for a non-root user).
 */
export interface AppSandbox {
  /** Shell lines that put the shell itself into the cgroups before it execs the app. */
  readonly enterPrefix: string;
  readonly user?: OsUser;
  /** Command prefix applying rlimits (prlimit), if available. */
  readonly prlimit: string[];
  /** Every pid in the sandbox's cgroups. */
  pids(): number[];
  dispose(): void;
  describe(): string;
}

const CGROUP_ROOT = '/sys/fs/cgroup';
export const PIDS_MAX = 512;
export const MEMORY_MAX_BYTES = 2 * 1024 * 1024 * 1024;

function tryCgroup(
  controller: string,
  name: string,
  settings: Record<string, string>,
  user?: OsUser,
): string | undefined {
  const dir = path.join(CGROUP_ROOT, controller, name);
  try {
    if (!existsSync(path.join(CGROUP_ROOT, controller))) return undefined;
    mkdirSync(dir);
    for (const [file, value] of Object.entries(settings))
      writeFileSync(path.join(dir, file), value);
    if (user) chownSync(path.join(dir, 'cgroup.procs'), user.uid, user.gid);
    return dir;
  } catch {
    try {
      rmdirSync(dir);
    } catch {
      // never created
    }
    return undefined;
  }
}

/** Can `user` read the workspace (every parent searchable, package.json readable)? */
function canRead(user: OsUser, workspace: string): boolean {
  const r = spawnSync('test', ['-r', path.join(workspace, 'package.json')], {
    uid: user.uid,
    gid: user.gid,
  });
  return r.status === 0;
}

const pause = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

const pidsIn = (group: string): number[] => {
  try {
    return readFileSync(path.join(group, 'cgroup.procs'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
};

/**
 * Kills what is left in the cgroups of checkers that died (owner.ts: pid and start time in the name), then
 * removes the groups: an app orphaned by a SIGKILLed checker must not run on.
 */
export function sweepOrphanCgroups(): void {
  for (const controller of ['pids', 'memory']) {
    const dir = path.join(CGROUP_ROOT, controller);
    let names: string[] = [];
    try {
      names = readdirSync(dir).filter((n) => n.startsWith('backend-sandbox-'));
    } catch {
      continue;
    }
    for (const n of names) {
      if (!orphaned(n.slice('backend-sandbox-'.length))) continue;
      const group = path.join(dir, n);
      // A few rounds: a fork bomb may still be forking (pids.max bounds it).
      for (let round = 0; round < 50 && pidsIn(group).length > 0; round++) {
        for (const pid of pidsIn(group)) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        pause(10);
      }
      try {
        rmdirSync(group);
      } catch {
        // still busy: the next sweep tries again
      }
    }
  }
}

export function createAppSandbox(
  workspace: string,
  opts: { unprivileged?: boolean } = {},
): AppSandbox {
  sweepOrphanCgroups();
  const name = `backend-sandbox-${ownerTag()}-${randomBytes(3).toString('hex')}`;
  const nobody = isRoot() && opts.unprivileged !== false ? lookupUser('nobody') : undefined;
  const user = nobody && canRead(nobody, workspace) ? nobody : undefined;
  const groups = [
    tryCgroup('pids', name, { 'pids.max': String(PIDS_MAX) }, user),
    tryCgroup('memory', name, { 'memory.limit_in_bytes': String(MEMORY_MAX_BYTES) }, user),
  ].filter((g): g is string => g !== undefined);
  const prlimitBin = ['/usr/bin/prlimit', '/bin/prlimit'].find((p) => existsSync(p));
  const prlimit = prlimitBin ? [prlimitBin, `--nproc=${PIDS_MAX}:${PIDS_MAX}`, '--'] : [];
  return {
    enterPrefix: groups.map((g) => `echo $$ > ${path.join(g, 'cgroup.procs')}; `).join(''),
    ...(user ? { user } : {}),
    prlimit: user || !isRoot() ? prlimit : [],
    pids: () =>
      groups.flatMap((g) => {
        try {
          return readFileSync(path.join(g, 'cgroup.procs'), 'utf8')
            .split('\n')
            .filter(Boolean)
            .map(Number);
        } catch {
          return [];
        }
      }),
    dispose: () => {
      for (const g of groups) {
        try {
          rmdirSync(g);
        } catch {
          // still has processes: killTree runs first, so this is rare
        }
      }
    },
    describe: () =>
      `${groups.length ? `cgroups ${groups.map((g) => path.basename(path.dirname(g))).join('+')}` : 'no cgroups'}, user ${user?.name ?? process.env.USER ?? 'current'}${
        prlimit.length && (user || !isRoot()) ? `, nproc<=${PIDS_MAX}` : ''
      }`,
  };
}
