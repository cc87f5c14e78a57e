import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { orphaned, ownerTag } from './owner';
import { allPids } from './process-tree';

/**
 * A uid of its own for each contained run, from a range no account uses (no /etc/passwd entry
 * needed): runs cannot signal, ptrace or read /proc/PID/environ of each other. Leases are files
 * under /run/backend-sandbox/uids, each holding its owner (owner.ts), so a SIGKILLed checker's
 * uid is reclaimed, its processes killed, by the next checker.
 */
export const RUN_UID_FIRST = 200_000;
export const RUN_UID_COUNT = 1000;

export interface RunUser {
  readonly uid: number;
  readonly gid: number;
}

const LEASE_DIR = '/run/backend-sandbox/uids';
const leaseDir = (): string => LEASE_DIR;

/** uids leased now (by live or dead checkers). */
export function leasedUids(): Set<number> {
  try {
    return new Set(readdirSync(LEASE_DIR).map(Number).filter(Number.isInteger));
  } catch {
    return new Set();
  }
}

/** Every live process whose real, effective or saved uid is `uid` (zombies are dead: not counted). */
export function processesOf(uid: number): number[] {
  const found: number[] = [];
  for (const pid of allPids()) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      if (/^State:\s+Z/m.test(status)) continue;
      const uids = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(status);
      if (uids && (Number(uids[1]) === uid || Number(uids[2]) === uid || Number(uids[3]) === uid))
        found.push(pid);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

const pause = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

/** SIGKILLs every process of the run's uid until none is left (the uid is the run's: nothing else runs as it). */
export function killUser(uid: number): void {
  for (let round = 0; round < 100; round++) {
    const pids = processesOf(uid);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGSTOP');
      } catch {
        // gone
      }
    }
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    pause(round < 5 ? 5 : 20);
  }
}

/** Leases of checkers that died: `onOrphan(uid)` cleans what the uid left (processes, fence), then the lease goes. */
export function sweepRunUsers(onOrphan: (uid: number) => void): void {
  let names: string[] = [];
  try {
    names = readdirSync(leaseDir());
  } catch {
    return;
  }
  for (const name of names) {
    const uid = Number(name);
    if (!Number.isInteger(uid)) continue;
    let owner = '';
    try {
      owner = readFileSync(path.join(leaseDir(), name), 'utf8').trim();
    } catch {
      continue;
    }
    if (!orphaned(owner)) continue;
    killUser(uid);
    onOrphan(uid);
    rmSync(path.join(leaseDir(), name), { force: true });
  }
}

/** Leases a free uid of the range for this checker (throws when all are taken). */
export function leaseRunUser(): RunUser {
  mkdirSync(leaseDir(), { recursive: true, mode: 0o700 });
  const offset = Math.floor(Math.random() * RUN_UID_COUNT);
  for (let i = 0; i < RUN_UID_COUNT; i++) {
    const uid = RUN_UID_FIRST + ((offset + i) % RUN_UID_COUNT);
    let fd: number;
    try {
      fd = openSync(path.join(leaseDir(), String(uid)), 'wx', 0o600);
    } catch {
      continue; // leased
    }
    writeSync(fd, `${ownerTag()}\n`);
    closeSync(fd);
    if (processesOf(uid).length > 0) killUser(uid); // a stray of a lease removed by hand
    return { uid, gid: uid };
  }
  throw new Error(`all ${RUN_UID_COUNT} run uids from ${RUN_UID_FIRST} are leased`);
}

/** Kills what the uid still runs, then gives the uid back. */
export function releaseRunUser(user: RunUser): void {
  killUser(user.uid);
  rmSync(path.join(leaseDir(), String(user.uid)), { force: true });
}
