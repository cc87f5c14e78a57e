import { existsSync } from 'node:fs';
import type { RunUser } from './run-user';

/** Tools the confinement needs (util-linux): a mount namespace, then the drop to the run's uid. */
export const UNSHARE = ['/usr/bin/unshare', '/bin/unshare'].find((p) => existsSync(p));
export const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

/** Single-quotes `s` for sh. */
export const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export interface Confinement {
  readonly user: RunUser;
  /** Folders the run must not see (the course's checks, references, the checker): empty read-only tmpfs over each, in the run's mount namespace. /run is always hidden (unix sockets of the machine's services). */
  readonly hidden: readonly string[];
  /** Shell lines run as root inside the namespace before the drop (e.g. joining the cgroups). */
  readonly enterPrefix: string;
  /** rlimits command prefix (prlimit ...). */
  readonly prlimit: readonly string[];
}

/**
 * The argv that runs `script` (a shell command line) confined: as root, a private mount namespace
 * hides /run and the `hidden` folders and joins the cgroups; then setpriv drops to the run's uid
 * and gid with no supplementary groups, no capabilities and no_new_privs (a setuid binary gains
 * nothing), and the shell runs the script. Each step execs, so the spawned pid ends as the app.
 */
export function confinedCommand(c: Confinement, script: string): string[] {
  if (!UNSHARE || !SETPRIV) throw new Error('unshare and setpriv (util-linux) are needed');
  const hide = ['/run', ...c.hidden]
    .filter((d) => existsSync(d))
    .map((d) => `mount -t tmpfs -o ro,nosuid,nodev,size=4k,mode=0755 hidden ${shellQuote(d)} &&`)
    .join(' ');
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
  const inner = `${hide} ${c.enterPrefix} exec ${drop}`;
  return [
    UNSHARE,
    '--mount',
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
