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
  /** True while the proxy accepts connections (also while it hangs). */
  readonly isUp: boolean;
  /** True between hang() and up()/down(). */
  readonly isHanging: boolean;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of Postgres or Redis so checks can take the service away from the
 * app: down() closes the listener (new connections are refused) and cuts every open pair;
 * hang() keeps accepting connections but forwards nothing either way (open pairs freeze,
 * new ones are held without an upstream), like a wedged server or a dropped route;
 * up() listens again on the same port, or after hang() cuts the frozen pairs.
 */
export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  const listenHost = opts.listenHost ?? '127.0.0.1';
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = opts.listenPort ?? 0;
  let closed = false;
  let hanging = false;
  /** Per open pair: stops forwarding, leaving both sockets open. */
  const freezers = new Set<() => void>();

  const track = (s: net.Socket): void => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };

  const onConnection = (client: net.Socket): void => {
    track(client);
    client.on('error', () => client.destroy());
    // Held: the client connected, the "server" never says a word.
    if (hanging) return;
    const upstream = net.connect({ host: opts.host, port: opts.port });
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
    const freeze = (): void => {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    };
    freezers.add(freeze);
    client.once('close', () => freezers.delete(freeze));
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

  const cutAll = (): void => {
    hanging = false;
    freezers.clear();
    for (const sock of sockets) sock.destroy();
    sockets.clear();
  };

  const stop = async (): Promise<void> => {
    const s = server;
    server = undefined;
    cutAll();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  await listen();

  const toggle: ServiceToggle = {
    down: stop,
    hang: async () => {
      if (closed) throw new Error('fault proxy is closed');
      if (!server) await listen();
      hanging = true;
      for (const freeze of freezers) freeze();
    },
    up: async () => {
      if (closed) throw new Error('fault proxy is closed');
      if (hanging) cutAll();
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
    get isHanging() {
      return hanging;
    },
    close: async () => {
      closed = true;
      await stop();
    },
  };
}
