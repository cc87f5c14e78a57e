import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * The run's network fence: iptables rules matching the run's uid (`-m owner --uid-owner`), in a
 * chain of its own (BSBX-<uid>). The uid may open TCP connections to 127.0.0.1 on the run's own
 * ports (its Postgres/Redis proxies, its mail sink, its app instances) and answer connections
 * made to it; everything else, IPv4 and IPv6, loopback included, is refused. Unix sockets are
 * out of iptables' reach: the mount namespace hides /run (confine.ts).
 */
export interface NetworkFence {
  /** Lets the run's uid connect to 127.0.0.1 on `ports`. */
  allow(...ports: number[]): void;
  /** Closes ports opened by allow() (an instance's own proxies, once it is gone). */
  revoke(...ports: number[]): void;
  dispose(): void;
}

const chain = (uid: number): string => `BSBX-${uid}`;
const IPTABLES = ['/usr/sbin/iptables', '/sbin/iptables'];

let available: boolean | undefined;

/** iptables (and ip6tables) with the owner match, usable by this process (root). */
export function fenceAvailable(): boolean {
  if (available !== undefined) return available;
  if (process.getuid?.() !== 0 || !IPTABLES.some((p) => existsSync(p))) return (available = false);
  const probe = spawnSync('iptables', ['-w', '5', '-S', 'OUTPUT'], { timeout: 10_000 });
  const probe6 = spawnSync('ip6tables', ['-w', '5', '-S', 'OUTPUT'], { timeout: 10_000 });
  return (available = probe.status === 0 && probe6.status === 0);
}

function restore(tool: 'iptables' | 'ip6tables', lines: string[]): boolean {
  const r = spawnSync(`${tool}-restore`, ['-w', '5', '--noflush'], {
    input: `*filter\n${lines.join('\n')}\nCOMMIT\n`,
    stdio: ['pipe', 'ignore', 'ignore'],
    timeout: 15_000,
  });
  return r.status === 0;
}

const jump = (uid: number): string => `OUTPUT -m owner --uid-owner ${uid} -j ${chain(uid)}`;
const accept = (port: number): string => `-o lo -d 127.0.0.1/32 -p tcp --dport ${port} -j ACCEPT`;

/** Builds the fence for `uid`, allowing `ports`; throws when iptables refuses. */
export function createFence(uid: number, ports: number[]): NetworkFence {
  if (!build(uid, ports)) {
    removeFence(uid); // a chain of a dead run whose lease went missing: start afresh
    if (!build(uid, ports)) {
      removeFence(uid);
      throw new Error('iptables refused the run’s network fence');
    }
  }
  const c = chain(uid);
  return {
    allow(...open) {
      if (
        open.length &&
        !restore(
          'iptables',
          open.map((p) => `-I ${c} ${accept(p)}`),
        )
      )
        throw new Error(`iptables refused to open ports ${open.join(', ')} to the run`);
    },
    revoke(...closed) {
      // Quiet when a rule is gone already (the chain removed with the run).
      for (const p of closed) restore('iptables', [`-D ${c} ${accept(p)}`]);
    },
    dispose: () => removeFence(uid),
  };
}

function build(uid: number, ports: number[]): boolean {
  const c = chain(uid);
  const v4 = restore('iptables', [
    `:${c} - [0:0]`,
    `-A ${c} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT`,
    ...ports.map((p) => `-A ${c} ${accept(p)}`),
    `-A ${c} -p tcp -j REJECT --reject-with tcp-reset`,
    `-A ${c} -j REJECT`,
    `-I ${jump(uid)}`,
  ]);
  const v6 =
    v4 &&
    restore('ip6tables', [
      `:${c} - [0:0]`,
      `-A ${c} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT`,
      `-A ${c} -p tcp -j REJECT --reject-with tcp-reset`,
      `-A ${c} -j REJECT`,
      `-I ${jump(uid)}`,
    ]);
  return v4 && v6;
}

/** Removes the uid's chain and its jump (both families); quiet when there is none. */
export function removeFence(uid: number): void {
  for (const tool of ['iptables', 'ip6tables'] as const) {
    if (restore(tool, [`-D ${jump(uid)}`, `-F ${chain(uid)}`, `-X ${chain(uid)}`])) continue;
    // Part of it is missing: remove what is there, one rule at a time.
    for (const args of [
      ['-D', ...jump(uid).split(' ')],
      ['-F', chain(uid)],
      ['-X', chain(uid)],
    ])
      spawnSync(tool, ['-w', '5', ...args], { stdio: 'ignore', timeout: 10_000 });
  }
}

/** uids that have a fence chain (for sweeps and leak checks). */
export function fencedUids(): number[] {
  const r = spawnSync('iptables', ['-w', '5', '-S'], { encoding: 'utf8', timeout: 10_000 });
  const r6 = spawnSync('ip6tables', ['-w', '5', '-S'], { encoding: 'utf8', timeout: 10_000 });
  const uids = new Set<number>();
  for (const m of `${r.stdout ?? ''}\n${r6.stdout ?? ''}`.matchAll(/^-N BSBX-(\d+)$/gm))
    uids.add(Number(m[1]));
  return [...uids];
}
