import WebSocket from 'ws';
import type { WsConnection, WsConnectOptions, WsConnectResult, WsMessage } from './api';

class Connection implements WsConnection {
  readonly messages: WsMessage[] = [];
  private closeCode: number | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly socket: WebSocket) {
    socket.on('message', (data: WebSocket.RawData) => {
      const text = Buffer.isBuffer(data)
        ? data.toString()
        : Array.isArray(data)
          ? Buffer.concat(data).toString()
          : Buffer.from(data).toString();
      let json: unknown;
      try {
        json = JSON.parse(text) as unknown;
      } catch {
        json = undefined;
      }
      this.messages.push({ json, text, at: Date.now() });
      this.notify();
    });
    socket.on('close', (code: number) => {
      this.closeCode = code;
      this.notify();
    });
    socket.on('error', () => undefined);
  }

  get closed(): boolean {
    return this.closeCode !== undefined;
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  /** Resolves when `probe` returns a value, re-probing on every event; rejects after timeoutMs. */
  private until<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const now = probe();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const listener = (): void => {
        const v = probe();
        if (v === undefined) return;
        cleanup();
        resolve(v);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `${what} within ${timeoutMs} ms (${this.messages.length} messages received: ${this.messages.map((m) => m.text.slice(0, 200)).join(' | ') || 'none'})`,
          ),
        );
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      this.listeners.add(listener);
    });
  }

  waitFor(pred: (m: WsMessage) => boolean, timeoutMs = 5000): Promise<WsMessage> {
    return this.until(
      () => this.messages.find(pred),
      timeoutMs,
      'no matching WebSocket message arrived',
    );
  }

  waitForClose(timeoutMs = 5000): Promise<number> {
    return this.until(() => this.closeCode, timeoutMs, 'the WebSocket was not closed');
  }

  close(): void {
    if (
      this.socket.readyState === WebSocket.OPEN ||
      this.socket.readyState === WebSocket.CONNECTING
    )
      this.socket.terminate();
  }
}

/** Connects a WebSocket; a refused upgrade comes back as { ok: false, status, body }. */
export function connectWs(
  url: string,
  opts: WsConnectOptions = {},
  track?: (c: WsConnection) => void,
): Promise<WsConnectResult> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  return new Promise((resolve) => {
    const socket = new WebSocket(url, {
      autoPong: opts.autoPong ?? true,
      handshakeTimeout: timeoutMs,
    });
    let settled = false;
    const settle = (r: WsConnectResult): void => {
      if (settled) return;
      settled = true;
      resolve(r);
    };
    const conn = new Connection(socket);
    socket.once('open', () => {
      track?.(conn);
      settle({ ok: true, socket: conn });
    });
    socket.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        settle({ ok: false, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() });
        socket.terminate();
      });
      res.on('error', () =>
        settle({ ok: false, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
      );
    });
    socket.once('error', () => settle({ ok: false, status: 0, body: '' }));
    socket.once('close', () => settle({ ok: false, status: 0, body: '' }));
  });
}
