import http from 'node:http';

export interface SplitAnswer {
  status: number;
  text: string;
}

/**
 * A request whose body is sent in two parts, so the app has it "in flight" in between
 * (the harness client always sends whole bodies). Resolves `answer` when the response ends.
 */
export interface SplitRequest {
  /** Resolves once the headers and the first part have been written. */
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
    req.flushHeaders();
    req.write(body.slice(0, cut), () => resolve());
  });
  return { started, finish: () => req.end(body.slice(cut)), answer };
}
