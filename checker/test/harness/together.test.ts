import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sendRequest, together } from '../../src/harness/http';

describe('together(): requests that start together', () => {
  let server: http.Server;
  let base: string;
  /** When each request's body was complete on the server, ms after the test began. */
  const ended = new Map<string, number>();
  let t0 = 0;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        ended.set(req.url ?? '', performance.now() - t0);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ url: req.url, body }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('holds back the last byte of every body until the last request is there, then sends them all', async () => {
    t0 = performance.now();
    let n = 0;
    const answers = await together(3, async (gate) => {
      const i = n++;
      // The third request starts 300 ms after the others: they wait for it.
      if (i === 2) await new Promise((resolve) => setTimeout(resolve, 300));
      return sendRequest(base, 'POST', `/r${i}`, { json: { i }, gate });
    });
    expect(answers.map((a) => a.response.json)).toEqual([
      { url: '/r0', body: '{"i":0}' },
      { url: '/r1', body: '{"i":1}' },
      { url: '/r2', body: '{"i":2}' },
    ]);
    for (const url of ['/r0', '/r1']) expect(ended.get(url)).toBeGreaterThanOrEqual(290);
  });

  it('does not hold the others when one cannot connect', async () => {
    let n = 0;
    const answers = await together(2, (gate) =>
      sendRequest(n++ === 0 ? base : 'http://127.0.0.1:1', 'POST', '/alone', {
        json: {},
        gate,
        timeoutMs: 3000,
      }).then(
        (a) => ({ ok: a.response.status }),
        (e: Error) => ({ failed: e.message }),
      ),
    );
    expect(answers).toEqual([
      { ok: 200 },
      { failed: 'POST /alone: connection refused, the app is not listening' },
    ]);
  });
});
