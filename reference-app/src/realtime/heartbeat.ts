import type { WebSocket, WebSocketServer } from 'ws';

/** Pings every socket each interval; a socket that has not answered the previous ping is terminated. */
export function startHeartbeat(wss: WebSocketServer, intervalMs: number): () => void {
  const alive = new WeakMap<WebSocket, boolean>();
  const onConnection = (socket: WebSocket): void => {
    alive.set(socket, true);
    socket.on('pong', () => alive.set(socket, true));
  };
  wss.on('connection', onConnection);
  const timer = setInterval(() => {
    for (const socket of wss.clients) {
      if (alive.get(socket) === false) {
        socket.terminate();
        continue;
      }
      alive.set(socket, false);
      socket.ping();
    }
  }, intervalMs);
  return () => {
    clearInterval(timer);
    wss.off('connection', onConnection);
  };
}
