import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/** Answers a refused upgrade with a small HTTP/1.1 response, then destroys the socket once it is flushed. */
export function refuseUpgrade(
  socket: Duplex,
  status: 401 | 404,
  code: string,
  message: string,
): void {
  const body = JSON.stringify({ error: { code, message } });
  const reason = status === 401 ? 'Unauthorized' : 'Not Found';
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** The access token of `/ws?token=...`, or undefined when the path is not /ws. */
export function parseWsRequest(req: IncomingMessage): { token: string } | undefined {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname !== '/ws') return undefined;
  return { token: url.searchParams.get('token') ?? '' };
}
