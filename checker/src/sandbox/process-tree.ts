import { readdirSync, readFileSync } from 'node:fs';

/** Parent pid of `pid` from /proc, or undefined when it is gone. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: the fields after the last ')' are safe.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[1]);
  } catch {
    return undefined;
  }
}

function processGroupOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return undefined;
  }
}

export function commandName(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Every pid /proc lists now. */
export function allPids(): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}

/** Every live descendant of `root` (children, grandchildren...), from /proc. */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const pid of allPids()) {
    const ppid = parentOf(pid);
    if (ppid === undefined) continue;
    const list = children.get(ppid) ?? [];
    list.push(pid);
    children.set(ppid, list);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length) {
    for (const c of children.get(queue.shift()!) ?? []) {
      found.push(c);
      queue.push(c);
    }
  }
  return found;
}

/** Live members of a process group (a daemonized child that called setsid is not one: see extra). */
export function groupMembers(pgid: number): number[] {
  return allPids().filter((pid) => processGroupOf(pid) === pgid);
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return commandName(pid) !== undefined && !isZombie(pid);
  } catch {
    return false;
  }
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

function signalPid(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

interface ProcEntry {
  ppid: number;
  pgid: number;
}

/** One pass over /proc: parent and process group of every live, non-zombie process. */
function snapshot(): Map<number, ProcEntry> {
  const table = new Map<number, ProcEntry>();
  for (const pid of allPids()) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue;
      table.set(pid, { ppid: Number(fields[1]), pgid: Number(fields[2]) });
    } catch {
      // exited meanwhile
    }
  }
  return table;
}

/**
 * SIGKILLs the process group led by `root`, every descendant (also those that left the group
 * or were re-parented once their parent died: pids seen once stay known), and any `extra` pids
 * (e.g. the app's cgroup), repeating until none is left. SIGSTOP first so forkers cannot outrun it.
 */
export async function killTree(root: number, extra: () => number[] = () => []): Promise<void> {
  const known = new Set<number>([root]);
  for (let round = 0; round < 100; round++) {
    const table = snapshot();
    for (const pid of extra()) known.add(pid);
    let grew = true;
    while (grew) {
      grew = false;
      for (const [pid, e] of table) {
        if (known.has(pid)) continue;
        if (known.has(e.ppid) || e.pgid === root) {
          known.add(pid);
          grew = true;
        }
      }
    }
    const targets = [...known].filter((pid) => table.has(pid));
    if (targets.length === 0) return;
    for (const pid of targets) signalPid(pid, 'SIGSTOP');
    signalPid(-root, 'SIGKILL');
    for (const pid of targets) signalPid(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, round < 5 ? 10 : 50));
  }
}
