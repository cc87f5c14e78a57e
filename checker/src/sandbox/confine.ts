import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RunUser } from './run-user';

/** Tools the confinement needs (util-linux): a mount namespace, then the drop to the run's uid. */
export const UNSHARE = ['/usr/bin/unshare', '/bin/unshare'].find((p) => existsSync(p));
export const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

/** Single-quotes `s` for sh. */
export const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export interface Confinement {
  readonly user: RunUser;
  /** hiddenTable()'s file: what the run's mount namespace hides. */
  readonly hiddenTable: string;
  /** Shell lines run as root inside the namespace before the drop (e.g. joining the cgroups). */
  readonly enterPrefix: string;
  /** rlimits command prefix (prlimit ...). */
  readonly prlimit: readonly string[];
  /**
   * A network namespace of its own with only a loopback (install scripts and the build, which run
   * offline): no socket of the machine's, TCP or abstract unix, is reachable from it.
   */
  readonly offline?: boolean;
}

const IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((p) => existsSync(p));

const TABLES = '/run/backend-sandbox/hidden';
const fstabPath = (d: string): string =>
  d.replace(/[\s\\]/g, (ch) => `\\${ch.charCodeAt(0).toString(8).padStart(3, '0')}`);

/**
 * Writes the run's table of hidden folders (fstab syntax, one `mount --all` mounts them all): an
 * empty read-only tmpfs over /run (the machine's unix sockets) and over each of `hidden` (the
 * course's checks, references, the checker) that exists. Returns its path.
 */
export function writeHiddenTable(uid: number, hidden: readonly string[]): string {
  mkdirSync(TABLES, { recursive: true, mode: 0o700 });
  const file = path.join(TABLES, `${uid}.fstab`);
  const lines = ['/run', ...hidden]
    .filter((d) => existsSync(d))
    .map((d) => `hidden ${fstabPath(d)} tmpfs ro,nosuid,nodev,size=4k,mode=0755 0 0`);
  writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  return file;
}

export function removeHiddenTable(uid: number): void {
  rmSync(path.join(TABLES, `${uid}.fstab`), { force: true });
}

/**
 * The argv that runs `script` (a shell command line) confined: as root, a private mount namespace
 * hides what the run's table names (offline: in a network namespace of its own too) and the shell
 * joins the cgroups; then setpriv drops to the run's uid
 * and gid with no supplementary groups, no capabilities and no_new_privs (a setuid binary gains
 * nothing), and the shell runs the script. Each step execs, so the spawned pid ends as the app.
 */
export function confinedCommand(c: Confinement, script: string): string[] {
  if (!UNSHARE || !SETPRIV) throw new Error('unshare and setpriv (util-linux) are needed');
  const hide = `mount --all --fstab ${shellQuote(c.hiddenTable)} &&`;
  const drop = [
    SETPRIV,
    `--reuid=${c.user.uid}`,
    `--regid=${c.user.gid}`,
    '--clear-groups',
    '--no-new-privs',
    '--inh-caps=-all',
    '--bounding-set=-all',
    '--',
    ...c.prlimit,
    '/bin/sh',
    '-c',
    '"$1"',
  ].join(' ');
  // The namespace's own loopback up (a build may serve itself on localhost); nothing else there.
  const loopback = c.offline && IP ? `${IP} link set lo up 2>/dev/null;` : '';
  const inner = `${hide} ${loopback} ${c.enterPrefix} exec ${drop}`;
  return [
    UNSHARE,
    '--mount',
    ...(c.offline ? ['--net'] : []),
    '--propagation',
    'private',
    '--',
    '/bin/sh',
    '-c',
    inner,
    'sandbox',
    script,
  ];
}
