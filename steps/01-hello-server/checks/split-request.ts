import http from 'node:http';
import net from 'node:net';

export interface SplitAnswer {
  status: number;
  text: string;
}

/**
 * A request whose body is sent in two parts, so the app has it "in flight" in between
 * (the harness client always sends whole bodies). Resolves `answer` when the response ends.
 */
export interface SplitRequest {
  /**
   * Resolves once the app has read the headers (it answered `100 Continue`, so the request is
   * in flight inside the app) and the first part has been written; after 2 s without a
   * 100 Continue it resolves anyway.
   */
  started: Promise<void>;
  /** Sends the rest of the body. */
  finish(): void;
  /** The full answer, or a rejection when the connection dies before it. */
  answer: Promise<SplitAnswer>;
}

export function splitRequest(
  baseUrl: string,
  method: string,
  path: string,
  body: string,
  headers: Record<string, string> = {},
): SplitRequest {
  const cut = Math.floor(body.length / 2);
  const req = http.request(new URL(path, baseUrl), {
    method,
    agent: false,
    headers: {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
      Expect: '100-continue',
      ...headers,
    },
  });
  const answer = new Promise<SplitAnswer>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  answer.catch(() => undefined);
  const started = new Promise<void>((resolve) => {
    let written = false;
    const writeFirstPart = (): void => {
      if (written) return;
      written = true;
      clearTimeout(fallback);
      req.write(body.slice(0, cut), () => resolve());
    };
    const fallback = setTimeout(writeFirstPart, 2000);
    req.once('continue', writeFirstPart);
    req.once('error', () => clearTimeout(fallback));
    req.flushHeaders();
  });
  return { started, finish: () => req.end(body.slice(cut)), answer };
}

/**
 * Resolves once new connections to the app are refused (its server stopped accepting, or the
 * process is gone), or after `maxMs`: the moment a SIGTERM has taken effect, without a guess.
 */
export async function untilRefused(baseUrl: string, maxMs = 3000): Promise<void> {
  const { hostname, port } = new URL(baseUrl);
  const deadline = Date.now() + maxMs;
  while (Date.now() < deadline) {
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: hostname, port: Number(port) });
      socket.setTimeout(500);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('timeout', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (!accepted) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}
