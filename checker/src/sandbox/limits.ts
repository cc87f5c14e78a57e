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
import os from 'node:os';
import path from 'node:path';
import { isRoot, lookupUser, type OsUser } from '../services/os-user';
import { orphaned, ownerTag } from './owner';
import { allPids } from './process-tree';

/**
 * Limits for the learner's processes. What works on a root host with cgroups v1: a pids cgroup
 * (pids.max: a fork bomb stops at the cap), a memory cgroup (memory.limit_in_bytes: a hog is
 * OOM-killed inside it) and a cpu cgroup (one core at most), which also list every process for
 * the final kill. A contained run (process-runtime.ts) launches through confine.ts as the run's
 * own uid; an uncontained one runs as the unprivileged `nobody` when root and `nobody` can read
 * the workspace (RLIMIT_NPROC is not enforced for root), else as the checker's user.
 */
export interface AppSandbox {
  /** The argv that runs `body` (a shell command line) in the sandbox. */
  command(body: string): string[];
  /** Spawn the argv as this user (uncontained runs as root: `nobody`); contained argv drop privileges themselves. */
  readonly spawnAs?: OsUser;
  /** HOME and TMPDIR of the sandboxed processes, when private. */
  readonly home?: string;
  readonly tmp?: string;
  /** A folder whose size (what was written into it) stops a setup command past `bytes` (run-command.ts). */
  readonly diskBudget?: { readonly dir: string; readonly bytes: number };
  /** What went wrong setting up the confinement itself, when it did (then nothing of the workspace ran). */
  setupFailure?(): string | undefined;
  /** Every pid in the sandbox's cgroups. */
  pids(): number[];
  dispose(): void;
  describe(): string;
}

const CGROUP_ROOT = '/sys/fs/cgroup';
export const PIDS_MAX = 512;
export const MEMORY_MAX_BYTES = 2 * 1024 * 1024 * 1024;
/** cpu.cfs_quota_us over a 100 ms period: one core. */
export const CPU_QUOTA_US = 100_000;
/** RLIMIT_FSIZE of contained processes: a larger file ends the writer (SIGXFSZ). */
export const FILE_SIZE_MAX_BYTES = 1024 * 1024 * 1024;
/** What a contained run's install scripts and build may write into its run dir, all told (run-command.ts watches). */
export const DISK_MAX_BYTES = 2 * 1024 * 1024 * 1024;

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
  for (const controller of ['pids', 'memory', 'cpu']) {
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

/** One process tree's cgroups (those the machine lets us create) and the shell line that joins them. */
export interface Cgroups {
  readonly groups: readonly string[];
  /** `echo $$ > .../cgroup.procs || exit 125; ` for each group: run by the shell that then execs the app. */
  readonly enterPrefix: string;
  pids(): number[];
  dispose(): void;
  describe(): string;
}

export function createCgroups(user?: OsUser): Cgroups {
  sweepOrphanCgroups();
  const name = `backend-sandbox-${ownerTag()}-${randomBytes(3).toString('hex')}`;
  const groups = [
    tryCgroup('pids', name, { 'pids.max': String(PIDS_MAX) }, user),
    tryCgroup('memory', name, { 'memory.limit_in_bytes': String(MEMORY_MAX_BYTES) }, user),
    tryCgroup('cpu', name, { 'cpu.cfs_quota_us': String(CPU_QUOTA_US) }, user),
  ].filter((g): g is string => g !== undefined);
  return {
    groups,
    // A shell that cannot join a group stops (exit 125): never runs the command without its limits.
    enterPrefix: groups
      .map((g) => `echo $$ > ${path.join(g, 'cgroup.procs')} || exit 125; `)
      .join(''),
    pids: () => [...new Set(groups.flatMap(pidsIn))],
    dispose: () => {
      for (const g of groups) {
        try {
          rmdirSync(g);
        } catch {
          // still has processes: the kill runs first, so this is rare
        }
      }
    },
    describe: () =>
      groups.length
        ? `cgroups ${groups.map((g) => path.basename(path.dirname(g))).join('+')}`
        : 'no cgroups',
  };
}

export const PRLIMIT_BIN = ['/usr/bin/prlimit', '/bin/prlimit'].find((p) => existsSync(p));

/** Tasks whose real uid is `uid`, counted as RLIMIT_NPROC counts them: every thread. */
export function tasksOf(uid: number): number {
  let tasks = 0;
  for (const pid of allPids()) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      if (Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) !== uid) continue;
      tasks += Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 1);
    } catch {
      // exited meanwhile
    }
  }
  return tasks;
}

/**
 * An uncontained run's sandbox: cgroups, and `nobody` when root and `nobody` can read the workspace.
 * RLIMIT_NPROC counts every task of the uid on the machine, threads too, so it bounds a fork bomb
 * only where no pids cgroup does, and then on top of what the uid runs already: a learner's editor
 * and browser hold hundreds of threads, and `nobody` is shared; under a flat 512 such a uid's node
 * could not start its threads and aborted (SIGABRT) before it listened.
 */
export function createAppSandbox(
  workspace: string,
  opts: { unprivileged?: boolean } = {},
): AppSandbox {
  const nobody = isRoot() && opts.unprivileged !== false ? lookupUser('nobody') : undefined;
  const user = nobody && canRead(nobody, workspace) ? nobody : undefined;
  const cgroups = createCgroups(user);
  const uid = user?.uid ?? process.getuid?.();
  const pidsCgroup = cgroups.groups.some((g) => path.basename(path.dirname(g)) === 'pids');
  const nproc = PRLIMIT_BIN && uid && !pidsCgroup ? tasksOf(uid) + PIDS_MAX : undefined;
  const prlimit = nproc ? [PRLIMIT_BIN!, `--nproc=${nproc}:${nproc}`, '--'] : [];
  return {
    command: (body) => [...prlimit, '/bin/sh', '-c', `${cgroups.enterPrefix}${body}`],
    ...(user ? { spawnAs: user, home: os.tmpdir() } : {}),
    pids: () => cgroups.pids(),
    dispose: () => cgroups.dispose(),
    describe: () =>
      `${cgroups.describe()}, user ${user?.name ?? process.env.USER ?? 'current'}${
        nproc ? `, nproc<=${nproc} (${PIDS_MAX} more than the user ran)` : ''
      }`,
  };
}
