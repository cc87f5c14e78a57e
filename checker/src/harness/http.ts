import http from 'node:http';
import type {
  Exchange,
  HttpClient,
  ReceivedResponse,
  RequestOptions,
  SentRequest,
  StartGate,
} from './api';
import { CheckFailure } from './failure';

const MAX_BODY_BYTES = 1024 * 1024;
const DISPLAY_BYTES = 64 * 1024;

function lowerHeaders(h: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h))
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function parseJson(text: string): unknown {
  try {
    return text.length ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    return undefined;
  }
}

function buildRequest(
  baseUrl: string,
  method: string,
  path: string,
  opts: RequestOptions,
): { sent: SentRequest; body?: Buffer } {
  const headers: Record<string, string> = {};
  let body: Buffer | undefined;
  if (opts.json !== undefined) {
    body = Buffer.from(JSON.stringify(opts.json));
    headers['content-type'] = 'application/json';
  } else if (opts.raw !== undefined) {
    body = Buffer.isBuffer(opts.raw) ? opts.raw : Buffer.from(opts.raw);
  }
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  for (const [k, v] of Object.entries(opts.headers ?? {})) headers[k.toLowerCase()] = v;
  if (body) headers['content-length'] = String(body.length);
  const sent: SentRequest = {
    method: method.toUpperCase(),
    url: new URL(path, baseUrl).toString(),
    headers,
  };
  if (body)
    sent.body =
      body.length > DISPLAY_BYTES
        ? `${body.subarray(0, DISPLAY_BYTES).toString()}... (${body.length} bytes)`
        : body.toString();
  return body ? { sent, body } : { sent };
}

/** One HTTP exchange over a fresh connection; failures to get an answer are CheckFailures showing the request. */
export function sendRequest(
  baseUrl: string,
  method: string,
  path: string,
  opts: RequestOptions = {},
): Promise<Exchange> {
  const { sent, body } = buildRequest(baseUrl, method, path, opts);
  const timeoutMs = opts.timeoutMs ?? 5000;
  const started = Date.now();
  return new Promise<Exchange>((resolve, reject) => {
    const fail = (summary: string, observed?: string): void =>
      reject(
        new CheckFailure(summary, {
          exchange: {
            request: sent,
            response: { status: 0, headers: {}, text: '', json: undefined },
            durationMs: Date.now() - started,
          },
          ...(observed ? { observed } : {}),
        }),
      );
    const req = http.request(
      sent.url,
      { method: sent.method, headers: sent.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= MAX_BODY_BYTES) chunks.push(c);
        });
        res.on('end', () => {
          clearTimeout(timer);
          const full = Buffer.concat(chunks).toString('utf8');
          const response: ReceivedResponse = {
            status: res.statusCode ?? 0,
            headers: lowerHeaders(res.headers),
            text: full.length > DISPLAY_BYTES ? full.slice(0, DISPLAY_BYTES) : full,
            json: parseJson(full),
          };
          resolve({ request: sent, response, durationMs: Date.now() - started });
        });
        res.on('error', (e) =>
          fail(`${sent.method} ${path}: the response broke off (${e.message})`),
        );
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      fail(`${sent.method} ${path} got no answer within ${timeoutMs} ms`);
    }, timeoutMs);
    let arrived = false;
    const arrive = (): Promise<void> => {
      if (arrived || !opts.gate) return Promise.resolve();
      arrived = true;
      return opts.gate.arrive();
    };
    req.on('error', (e: NodeJS.ErrnoException) => {
      void arrive(); // a request that failed does not hold back the others
      clearTimeout(timer);
      if (e.code === 'ECONNREFUSED')
        fail(`${sent.method} ${path}: connection refused, the app is not listening`);
      else if (e.code === 'ECONNRESET' || e.message === 'socket hang up')
        fail(`${sent.method} ${path}: the app closed the connection without answering`);
      else fail(`${sent.method} ${path} failed: ${e.message}`);
    });
    if (!opts.gate) return void req.end(body);
    // Connected, and all but the last byte of the body sent; the rest once every request is there.
    const release = (): void => void arrive().then(() => req.end(body?.subarray(-1)));
    req.on('socket', (socket) => {
      const connected = (): void => {
        if (body && body.length > 1) req.write(body.subarray(0, -1), release);
        else release();
      };
      if (socket.connecting) socket.once('connect', connected);
      else connected();
    });
  });
}

/**
 * Sends `n` requests that start together (RequestOptions.gate): `send(gate)` makes one, with
 * `gate` in its options. Resolves with every exchange, in order; rejects like Promise.all.
 */
export function together<T>(n: number, send: (gate: StartGate) => Promise<T>): Promise<T[]> {
  let waiting = n;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const gate: StartGate = {
    arrive: () => {
      waiting -= 1;
      if (waiting <= 0) open();
      return opened;
    },
  };
  return Promise.all(Array.from({ length: n }, () => send(gate)));
}

export function createHttpClient(baseUrl: string): HttpClient {
  const request = (method: string, path: string, opts?: RequestOptions): Promise<Exchange> =>
    sendRequest(baseUrl, method, path, opts);
  return {
    request,
    get: (p, o) => request('GET', p, o),
    post: (p, o) => request('POST', p, o),
    patch: (p, o) => request('PATCH', p, o),
    delete: (p, o) => request('DELETE', p, o),
  };
}
