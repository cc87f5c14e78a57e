import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Readable } from 'node:stream';

/**
 * Another host on private and link-local networks, as a grading machine in a cloud or an office
 * has around it (a metadata service at 169.254.169.254, a database at 10.x): a network namespace
 * behind a veth pair, routed from this machine, with a TCP listener on `port` at each address that
 * counts who connects. Needs root and iproute2. remove() leaves nothing (namespace, links, process).
 */
export interface PrivateNeighbour {
  readonly addresses: string[];
  readonly port: number;
  /** Connections accepted so far, per address. */
  hits(): Promise<Record<string, number>>;
  remove(): void;
}

export const NEIGHBOUR_ADDRESSES = ['169.254.169.254', '10.213.7.2', '172.20.7.2', '192.168.213.2'];

const LISTENER = `
const net = require('node:net');
const hits = {};
const port = Number(process.argv[1]);
for (const host of process.argv.slice(2)) {
  hits[host] = 0;
  net.createServer((s) => { hits[host]++; s.destroy(); }).listen(port, host);
}
process.stdin.on('data', () => process.stdout.write(JSON.stringify(hits) + '\\n'));
setTimeout(() => process.stdout.write('ready\\n'), 200);
`;

const ip = (...args: string[]): void => void execFileSync('ip', args, { stdio: 'pipe' });

export async function privateNeighbour(port = 18_080): Promise<PrivateNeighbour> {
  const id = randomBytes(3).toString('hex');
  const ns = `bsbx-test-${id}`;
  const [host, peer] = [`bsh${id}`, `bsp${id}`];
  const addresses = NEIGHBOUR_ADDRESSES;
  ip('netns', 'add', ns);
  const removeNet = (): void => {
    try {
      ip('netns', 'del', ns); // takes the peer with it, and so the pair and its routes
    } catch {
      // already gone
    }
    try {
      ip('link', 'del', host);
    } catch {
      // gone with the namespace
    }
  };
  try {
    ip('link', 'add', host, 'type', 'veth', 'peer', 'name', peer);
    ip('link', 'set', peer, 'netns', ns);
    ip('addr', 'add', '10.213.7.1/24', 'dev', host);
    ip('link', 'set', host, 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'link', 'set', peer, 'up');
    for (const a of addresses) ip('-n', ns, 'addr', 'add', `${a}/32`, 'dev', peer);
    ip('-n', ns, 'route', 'add', '10.213.7.1', 'dev', peer);
    ip('-n', ns, 'route', 'add', 'default', 'via', '10.213.7.1', 'dev', peer);
    for (const a of addresses.filter((a) => a !== '10.213.7.2'))
      ip('route', 'add', `${a}/32`, 'dev', host);
  } catch (e) {
    removeNet();
    throw e;
  }
  const listener = spawn(
    'ip',
    ['netns', 'exec', ns, process.execPath, '-e', LISTENER, String(port), ...addresses],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = listener.stdout as Readable;
  lines.setEncoding('utf8');
  const nextLine = async (): Promise<string> => {
    const [chunk] = (await once(lines, 'data')) as [string];
    return chunk.trim();
  };
  const remove = (): void => {
    listener.kill('SIGKILL');
    removeNet();
  };
  if ((await nextLine()) !== 'ready') {
    remove();
    throw new Error('the neighbour listener did not start');
  }
  return {
    addresses,
    port,
    hits: async () => {
      const answer = nextLine();
      listener.stdin?.write('?\n');
      return JSON.parse(await answer) as Record<string, number>;
    },
    remove,
  };
}
