import net from 'node:net';

/** A relay on the host that only the run's network may use, forwarding to a host-local port. */
export interface Relay {
  readonly port: number;
  close(): Promise<void>;
}

/** Whether `address` (maybe IPv4-mapped) is in the IPv4 /24 or wider `subnet` (a.b.c.0/n). */
export function inSubnet(address: string | undefined, subnet: string): boolean {
  const [base, bits] = subnet.split('/');
  const toInt = (ip: string): number =>
    ip.split('.').reduce((n, part) => n * 256 + Number(part), 0) >>> 0;
  const ip = address?.replace(/^::ffff:/, '');
  if (!ip || !base || !/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return false;
  const mask = bits ? (~0 << (32 - Number(bits))) >>> 0 : 0xffffffff;
  return (toInt(ip) & mask) >>> 0 === (toInt(base) & mask) >>> 0;
}

export async function startRelay(targetPort: number, subnet: string): Promise<Relay> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (!inSubnet(client.remoteAddress, subnet)) return void client.destroy();
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      s.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) =>
    server.once('error', reject).listen({ host: '0.0.0.0', port: 0 }, resolve),
  );
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Host URLs (127.0.0.1/localhost) in the app's env are rewritten to relays on the network's gateway. */
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** postgres://u:p@127.0.0.1:5433/db -> postgres://u:p@<gateway>:<relay>/db; other values unchanged. */
export async function relayUrl(
  value: string,
  network: { gateway: string; subnet: string },
  relays: Relay[],
): Promise<string> {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return value;
  }
  if (!LOCAL_HOSTS.has(url.hostname) || !url.port || /^https?:$/.test(url.protocol)) return value;
  const relay = await startRelay(Number(url.port), network.subnet);
  relays.push(relay);
  url.hostname = network.gateway;
  url.port = String(relay.port);
  return url.toString();
}
