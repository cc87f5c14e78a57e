import WebSocket from 'ws';
import { json } from '../test/support/http';
import { percentile } from './load';

/** Opens `sockets` sockets for one user, makes `events` note changes, measures request-to-arrival per socket. */
export async function wsLatency(url: string, token: string, sockets: number, events: number) {
  const clients: WebSocket[] = [];
  const pending = new Map<string, number>();
  const latencies: number[] = [];
  for (let i = 0; i < sockets; i += 100) {
    const batch = Array.from({ length: Math.min(100, sockets - i) }, () => {
      const ws = new WebSocket(`${url.replace('http', 'ws')}/ws?token=${token}`);
      ws.on('message', (data: Buffer) => {
        const msg = JSON.parse(data.toString()) as { type: string; note?: { title?: string } };
        const sentAt = msg.note?.title ? pending.get(msg.note.title) : undefined;
        if (msg.type === 'note.created' && sentAt !== undefined)
          latencies.push(performance.now() - sentAt);
      });
      clients.push(ws);
      return new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
    });
    await Promise.all(batch);
  }
  for (let e = 0; e < events; e++) {
    const title = `event-${e}`;
    pending.set(title, performance.now());
    const expected = (e + 1) * sockets;
    await json(`${url}/notes`, { body: { title }, token });
    const deadline = Date.now() + 5000;
    while (latencies.length < expected && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 2));
  }
  for (const ws of clients) ws.terminate();
  return {
    sockets,
    events,
    delivered: latencies.length,
    expected: sockets * events,
    p50Ms: Number(percentile(latencies, 50).toFixed(2)),
    p99Ms: Number(percentile(latencies, 99).toFixed(2)),
  };
}
