import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { orphaned, ownerTag } from '../sandbox/owner';

/** Rules carry `backend-sandbox:<pid>-<start>` so a later run can remove those of a dead checker. */
const COMMENT = /--comment "?backend-sandbox:(\d+-\d+)"?/;

function iptables(args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('iptables', ['-w', '5', ...args], { encoding: 'utf8', timeout: 10_000 });
  return { ok: r.status === 0, out: r.stdout ?? '' };
}

/** INPUT: connections to this machine. FORWARD: connections routed through it to other hosts. */
const CHAINS = ['INPUT', 'FORWARD'] as const;

/** Every rule of the chains the sandbox writes to, as `iptables -S` prints them (`-A CHAIN ...`). */
function rules(): string[] {
  return CHAINS.flatMap((chain) =>
    iptables(['-S', chain])
      .out.split('\n')
      .filter((l) => l.startsWith(`-A ${chain} `)),
  );
}

/** `-A CHAIN a "b" c` -> ['CHAIN', 'a', 'b', 'c'] (iptables quotes the comment). */
const argsOf = (rule: string): string[] =>
  rule
    .split(' ')
    .slice(1)
    .map((a) => a.replace(/^"|"$/g, ''));

function deleteRule(rule: string): void {
  iptables(['-D', ...argsOf(rule)]);
}

/**
 * Where a routed network (the dependency stage's) must not connect, besides this machine: private,
 * shared, link-local (169.254.169.254, a cloud's metadata service), loopback and reserved ranges,
 * and the networks this machine is on. The registry is reached at a public address.
 */
export function privateRanges(): string[] {
  const own = Object.values(os.networkInterfaces())
    .flat()
    .filter((i) => i?.family === 'IPv4' && !i.internal && i.cidr && !i.cidr.endsWith('/32'))
    .map((i) => networkOf(i!.cidr!));
  return [
    ...new Set([
      '0.0.0.0/8',
      '10.0.0.0/8',
      '100.64.0.0/10',
      '127.0.0.0/8',
      '169.254.0.0/16',
      '172.16.0.0/12',
      '192.168.0.0/16',
      '198.18.0.0/15',
      '224.0.0.0/3', // multicast and reserved
      ...own,
    ]),
  ];
}

/** 192.0.2.2/24 -> 192.0.2.0/24 (iptables prints the network address). */
function networkOf(cidr: string): string {
  const [address, bits] = cidr.split('/');
  const n = Number(bits);
  const value = (address ?? '').split('.').reduce((v, octet) => v * 256 + Number(octet), 0);
  const mask = n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0;
  const net = (value & mask) >>> 0;
  return `${[24, 16, 8, 0].map((shift) => (net >>> shift) & 255).join('.')}/${n}`;
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
  /** A network with a route out (the dependency stage's): refuse new connections to privateRanges() too. */
  routed?: boolean;
}

/**
 * From the network's subnet, no new connection to the host except the allowed ports: the host's
 * own Postgres/Redis and other runs' services are refused; from a routed network, none to other
 * hosts on private or link-local addresses either (best effort: needs root and iptables; without
 * them the relays still refuse other subnets). Returns the undo.
 */
export function firewallSubnet(opts: FirewallOptions): () => void {
  const tag = ruleTag();
  const from = newFrom(opts.subnet);
  const ports = opts.allowedTcpPorts ?? [];
  const exceptPorts = ports.length ? ['-m', 'multiport', '!', '--dports', ports.join(',')] : [];
  const wanted: string[][] = [
    ['INPUT', ...from, '-p', 'tcp', ...exceptPorts, ...tag, '-j', 'REJECT'],
    ['INPUT', ...from, '-p', 'udp', ...tag, '-j', 'REJECT'],
  ];
  if (opts.dnsServer)
    for (const proto of ['udp', 'tcp'])
      wanted.unshift([
        'INPUT',
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
  if (opts.routed)
    for (const range of privateRanges())
      wanted.push(['FORWARD', ...from, '-d', range, ...tag, '-j', 'REJECT']);
  // The engine just gave this subnet to our new network: rules for it are a killed run's leftovers.
  for (const rule of rules().filter((l) => l.includes(` -s ${opts.subnet} `) && COMMENT.test(l)))
    deleteRule(rule);
  // Inserted in reverse so that they end up in order at the top of their chain (the DNS accepts
  // first; FORWARD's before the engine's own accepts).
  return insertRules([...wanted].reverse());
}

/** This checker's comment on every rule it adds (the sweep finds a dead checker's by it). */
const ruleTag = (): string[] => ['-m', 'comment', '--comment', `backend-sandbox:${ownerTag()}`];

/** New connections from `subnet` only: replies to the checker's own connections to the app must pass. */
const newFrom = (subnet: string): string[] => ['-s', subnet, '-m', 'conntrack', '--ctstate', 'NEW'];

/** Inserts each rule at the top of its chain; returns the undo of those iptables took. */
function insertRules(wanted: string[][]): () => void {
  const added = wanted.filter(([chain, ...rule]) => iptables(['-I', chain!, ...rule]).ok);
  return () => {
    for (const r of added) iptables(['-D', ...r]);
  };
}

/**
 * Opens `ports` on the host to new connections from `subnet`, above firewallSubnet()'s refusal
 * (an app instance's own relays, made after the network's firewall). Returns the undo; without
 * iptables it does nothing (the relays still refuse other subnets).
 */
export function openSubnetPorts(subnet: string, ports: number[]): () => void {
  const [tag, from] = [ruleTag(), newFrom(subnet)];
  return insertRules(
    ports.map((port) => [
      'INPUT',
      ...from,
      '-p',
      'tcp',
      '--dport',
      String(port),
      ...tag,
      '-j',
      'ACCEPT',
    ]),
  );
}

/** Removes the rules whose checker process is gone. */
export function sweepFirewallRules(): number {
  let removed = 0;
  for (const rule of rules()) {
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
  return rules().filter((l) => {
    const m = COMMENT.exec(l);
    return m?.[1] && (pid === undefined || m[1].startsWith(`${pid}-`));
  });
}
