import { spawnSync } from 'node:child_process';
import { orphaned, ownerTag } from '../sandbox/owner';

/** Rules carry `backend-sandbox:<pid>-<start>` so a later run can remove those of a dead checker. */
const COMMENT = /--comment "?backend-sandbox:(\d+-\d+)"?/;

function iptables(args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('iptables', ['-w', '5', ...args], { encoding: 'utf8', timeout: 10_000 });
  return { ok: r.status === 0, out: r.stdout ?? '' };
}

function inputRules(): string[] {
  return iptables(['-S', 'INPUT'])
    .out.split('\n')
    .filter((l) => l.startsWith('-A INPUT '));
}

/** `-A INPUT a "b" c` -> ['a', 'b', 'c'] (iptables quotes the comment). */
const argsOf = (rule: string): string[] =>
  rule
    .split(' ')
    .slice(2)
    .map((a) => a.replace(/^"|"$/g, ''));

function deleteRule(rule: string): void {
  iptables(['-D', 'INPUT', ...argsOf(rule)]);
}

/** iptables answers (root, and the tool installed): the host can be fenced from the sandbox's networks. */
export function firewallAvailable(): boolean {
  return iptables(['-S', 'INPUT']).ok;
}

export interface FirewallOptions {
  /** The network's subnet, e.g. 10.89.3.0/24. */
  subnet: string;
  /** TCP ports on the host the network may open (the run's relays). */
  allowedTcpPorts?: number[];
  /** The network's gateway, whose DNS (port 53) stays open (the dependency stage resolves the registry). */
  dnsServer?: string;
}

/**
 * From the network's subnet, no new connection to the host except the allowed ports: the host's
 * own Postgres/Redis and other runs' services are refused (best effort: needs root and iptables;
 * without them the relays still refuse other subnets). Returns the undo.
 */
export function firewallSubnet(opts: FirewallOptions): () => void {
  const tag = ['-m', 'comment', '--comment', `backend-sandbox:${ownerTag()}`];
  // Only new connections: replies to the checker's own connections to the app must pass.
  const from = ['-s', opts.subnet, '-m', 'conntrack', '--ctstate', 'NEW'];
  const ports = opts.allowedTcpPorts ?? [];
  const exceptPorts = ports.length ? ['-m', 'multiport', '!', '--dports', ports.join(',')] : [];
  const rules: string[][] = [
    [...from, '-p', 'tcp', ...exceptPorts, ...tag, '-j', 'REJECT'],
    [...from, '-p', 'udp', ...tag, '-j', 'REJECT'],
  ];
  if (opts.dnsServer)
    for (const proto of ['udp', 'tcp'])
      rules.unshift([
        ...from,
        '-d',
        opts.dnsServer,
        '-p',
        proto,
        '--dport',
        '53',
        ...tag,
        '-j',
        'ACCEPT',
      ]);
  // The engine just gave this subnet to our new network: rules for it are a killed run's leftovers.
  for (const rule of inputRules().filter((l) => l.includes(` -s ${opts.subnet} `)))
    deleteRule(rule);
  // Inserted in reverse so that they end up in order at the top of INPUT (the DNS accepts first).
  const added = [...rules].reverse().filter((r) => iptables(['-I', 'INPUT', ...r]).ok);
  return () => {
    for (const r of added) iptables(['-D', 'INPUT', ...r]);
  };
}

/** Removes the rules whose checker process is gone. */
export function sweepFirewallRules(): number {
  let removed = 0;
  for (const rule of inputRules()) {
    const m = COMMENT.exec(rule);
    if (m?.[1] && orphaned(m[1])) {
      deleteRule(rule);
      removed++;
    }
  }
  return removed;
}

/** Rules the sandbox holds (tests assert none is left by a run). */
export function sandboxFirewallRules(pid?: number): string[] {
  return inputRules().filter((l) => {
    const m = COMMENT.exec(l);
    return m?.[1] && (pid === undefined || m[1].startsWith(`${pid}-`));
  });
}
