import { readFileSync } from 'node:fs';

/**
 * Who owns a leftover (cgroup, run dir, database, container, firewall rule, uid lease): a checker
 * process, named by its pid AND its start time, so a recycled pid never keeps an orphan alive.
 * The one rule every sweeper uses: the owner is alive iff a process with that pid runs and
 * started at that time.
 */
export interface Owner {
  readonly pid: number;
  /** Field 22 of /proc/PID/stat: clock ticks since boot when the process started. */
  readonly start: number;
}

/** When `pid` started (ticks since boot), or undefined when no such process runs. */
export function processStart(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z') return undefined; // a zombie has ended
    const start = Number(fields[19]); // field 22 overall; fields[0] is field 3
    return Number.isFinite(start) ? start : undefined;
  } catch {
    return undefined;
  }
}

let me: Owner | undefined;

/** This checker process as an owner. */
export function selfOwner(): Owner {
  me ??= { pid: process.pid, start: processStart(process.pid) ?? 0 };
  return me;
}

/** `PID-START`, for names (cgroups, dirs, labels; databases swap '-' for '_'). */
export function ownerTag(owner: Owner = selfOwner(), separator = '-'): string {
  return `${owner.pid}${separator}${owner.start}`;
}

/** Reads `PID-START` (or `PID_START`) at the start of `text`; undefined when it is not one. */
export function parseOwnerTag(text: string): Owner | undefined {
  const m = /^(\d+)[-_](\d+)(?:$|[-_.])/.exec(text);
  if (!m) return undefined;
  const pid = Number(m[1]);
  const start = Number(m[2]);
  return pid > 0 ? { pid, start } : undefined;
}

export function isSelf(owner: Owner): boolean {
  const me = selfOwner();
  return owner.pid === me.pid && owner.start === me.start;
}

/** The owner still runs: same pid, same start time. */
export function ownerAlive(owner: Owner): boolean {
  if (isSelf(owner)) return true;
  return processStart(owner.pid) === owner.start;
}

/** For a leftover that belongs to a dead owner: `tag` parsed and not alive. Unparseable tags are not ours to judge. */
export function orphaned(tag: string): boolean {
  const owner = parseOwnerTag(tag);
  return owner !== undefined && !ownerAlive(owner);
}
