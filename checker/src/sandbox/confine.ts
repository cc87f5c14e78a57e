import { existsSync } from 'node:fs';
import { scopeAbstractSockets } from './abstract-sockets';
import { setupFailureMarker, VIEW_ROOT } from './filesystem-view';
import type { RunUser } from './run-user';

/** Tools the confinement needs (util-linux): a mount namespace, then the drop to the run's uid. */
export const UNSHARE = ['/usr/bin/unshare', '/bin/unshare'].find((p) => existsSync(p));
export const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

/** Single-quotes `s` for sh. */
export const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export const CHROOT = ['/usr/sbin/chroot', '/sbin/chroot', '/usr/bin/chroot'].find((p) =>
  existsSync(p),
);

export interface Confinement {
  readonly user: RunUser;
  /** writeViewScript()'s file: the mounts that build what the run sees (filesystem-view.ts). */
  readonly viewScript: string;
  /** Shell lines run as root inside the namespace before the drop (e.g. joining the cgroups). */
  readonly enterPrefix: string;
  /** rlimits command prefix (prlimit ...). */
  readonly prlimit: readonly string[];
  /**
   * A network namespace of its own with only a loopback (install scripts and the build, which run
   * offline): no socket of the machine's, TCP or abstract unix, is reachable from it.
   */
  readonly offline?: boolean;
  /** Paths the view shows writable during setup are mounted read-only (the app). */
  readonly readOnlyRunDir?: boolean;
}

const IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((p) => existsSync(p));

/**
 * The argv that runs `script` (a shell command line) confined: as root, in a mount and IPC
 * namespace of its own (offline: a network namespace too), the view script mounts the run's root
 * (filesystem-view.ts) and the shell joins the cgroups; a Landlock domain scopes abstract unix
 * sockets (abstract-sockets.ts); chroot enters that root, back in the
 * command's folder; then setpriv drops to the run's uid and gid with no supplementary groups, no
 * capabilities and no_new_privs (a setuid binary gains nothing), and the shell runs the script.
 * Each step execs, so the spawned pid ends as the app.
 */
export function confinedCommand(c: Confinement, script: string): string[] {
  if (!UNSHARE || !SETPRIV || !CHROOT)
    throw new Error('unshare, setpriv (util-linux) and chroot (coreutils) are needed');
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
  const enter = `cd "$1" || exit 126; shift; exec ${drop}`;
  // The confinement's own steps (the view's mounts, joining the cgroups, each of which exits 125
  // on failure): a failure is the checker's, recorded where only root writes (the EXIT trap), never
  // the workspace's exit code to judge. exec runs no trap, so a command that starts leaves no mark.
  const marker = shellQuote(setupFailureMarker(c.user.uid));
  const out = `${marker}.$$.out`;
  const setup = `trap "mv ${out} ${marker} 2>/dev/null" EXIT; { /bin/sh ${shellQuote(c.viewScript)} ${c.readOnlyRunDir ? 'app' : 'setup'} || exit 125; ${loopback} ${c.enterPrefix} :; } > ${out} 2>&1; trap - EXIT; rm -f ${out};`;
  // Landlock: no abstract unix socket of the machine either (abstract-sockets.ts), where the kernel can.
  const scope = scopeAbstractSockets().map(shellQuote).join(' ');
  const inner = `${setup} exec ${scope} ${CHROOT} ${shellQuote(VIEW_ROOT)} /bin/sh -c ${shellQuote(enter)} sandbox "$PWD" "$1"`;
  return [
    UNSHARE,
    '--mount',
    '--ipc',
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
