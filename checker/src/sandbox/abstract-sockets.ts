import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Abstract unix sockets (a name starting with a NUL byte, no file) are reachable from every process
 * of the same network namespace: no mount hides them, no permission checks them, iptables does not
 * see them. Landlock scopes them (ABI 6, Linux 6.12): a process in a Landlock domain created with
 * LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET cannot connect to one that a process outside its domain
 * listens on (EPERM); the sockets of its own tree still work. Debian's perl-base (essential, on
 * every Debian machine) makes the two system calls, then execs the rest of the command line.
 */
const PERL = ['/usr/bin/perl', '/bin/perl'].find((p) => existsSync(p));

// landlock_create_ruleset (444) with only `scoped` set (struct landlock_ruleset_attr: handled fs
// access, handled net access, scoped), then landlock_restrict_self (446). Syscalls numbered from
// 424 on have the same number on every architecture. Root holds CAP_SYS_ADMIN: no no_new_privs needed.
const SCOPE_AND_EXEC = [
  'my $attr = pack("QQQ", 0, 0, 1);',
  'my $fd = syscall(444, $attr, length($attr), 0);',
  'die "landlock_create_ruleset: $!\\n" if $fd < 0;',
  'syscall(446, $fd, 0) == 0 or die "landlock_restrict_self: $!\\n";',
  'exec { $ARGV[0] } @ARGV or die "exec $ARGV[0]: $!\\n";',
].join(' ');

let available: boolean | undefined;

/** The kernel has Landlock with scopes (ABI 6 or later) and perl is there to ask it. */
export function abstractSocketScopeAvailable(): boolean {
  available ??=
    PERL !== undefined &&
    spawnSync(PERL, ['-e', 'exit(syscall(444, 0, 0, 1) >= 6 ? 0 : 1)'], { timeout: 10_000 })
      .status === 0;
  return available;
}

/** An argv prefix that runs the rest in such a domain; empty where the kernel cannot. */
export function scopeAbstractSockets(): string[] {
  return abstractSocketScopeAvailable() ? [PERL!, '-e', SCOPE_AND_EXEC] : [];
}
