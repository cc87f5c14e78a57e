import net from 'node:net';
import type { ServiceToggle } from '../harness/api';

export interface FaultProxyOptions {
  /** The real service. */
  host: string;
  port: number;
  /** Where the proxy listens (default 127.0.0.1, a free port). */
  listenHost?: string;
  listenPort?: number;
}

export interface FaultProxy {
  readonly port: number;
  readonly toggle: ServiceToggle;
  /** True while the proxy accepts connections. */
  readonly isUp: boolean;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of Postgres or Redis so checks can take the service away from the
 * app: down() closes the listener (new connections are refused) and cuts every open pair;
 * up() listens again on the same port.
 */
export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  const listenHost = opts.listenHost ?? '127.0.0.1';
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = opts.listenPort ?? 0;
  let closed = false;

  const track = (s: net.Socket): void => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };

  const onConnection = (client: net.Socket): void => {
    const upstream = net.connect({ host: opts.host, port: opts.port });
    track(client);
    track(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    // Either side failing or ending ends the pair, like a real connection would.
    const cut = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', cut).on('close', cut);
    upstream.on('error', cut).on('close', cut);
    client.pipe(upstream);
    upstream.pipe(client);
  };

  const listen = async (): Promise<void> => {
    const s = net.createServer({ noDelay: true }, onConnection);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen({ host: listenHost, port, exclusive: true }, () => {
        s.off('error', reject);
        resolve();
      });
    });
    s.on('error', () => undefined);
    port = (s.address() as net.AddressInfo).port;
    server = s;
  };

  const stop = async (): Promise<void> => {
    const s = server;
    server = undefined;
    for (const sock of sockets) sock.destroy();
    sockets.clear();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  await listen();

  const toggle: ServiceToggle = {
    down: stop,
    up: async () => {
      if (closed) throw new Error('fault proxy is closed');
      if (!server) await listen();
    },
  };

  return {
    get port() {
      return port;
    },
    toggle,
    get isUp() {
      return server !== undefined;
    },
    close: async () => {
      closed = true;
      await stop();
    },
  };
}
