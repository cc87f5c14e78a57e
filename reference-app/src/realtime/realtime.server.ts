import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { startHeartbeat } from './heartbeat';
import { startNoteEventsBus } from './note-events.bus';
import type { NoteEventsPublisher } from './note-events';
import { SocketRegistry } from './socket-registry';
import { parseWsRequest, refuseUpgrade } from './upgrade';

export interface RealtimeOptions {
  server: Server;
  /** The user id of a valid, unrevoked access token, or null. */
  authenticate(token: string): Promise<string | null>;
  heartbeatMs: number;
  /** A connection for PUBLISH; the subscriber is duplicated from it. */
  redis: Redis;
  channel: string;
  logger: Logger;
}

export interface Realtime {
  noteEvents: NoteEventsPublisher;
  /** Closes every socket (1001 going away), the WebSocket server and the subscriber. */
  close(): Promise<void>;
}

const CLOSE_DEADLINE_MS = 1000;

/** WebSockets on the app's own HTTP server: authenticated upgrade on /ws, per-user fan-out, heartbeat. */
export async function startRealtime(opts: RealtimeOptions): Promise<Realtime> {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const registry = new SocketRegistry();
  const stopHeartbeat = startHeartbeat(wss, opts.heartbeatMs);
  const bus = await startNoteEventsBus({
    publisher: opts.redis,
    subscriber: opts.redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null }),
    channel: opts.channel,
    deliver: (userId, message) => registry.send(userId, message),
    logger: opts.logger,
  });

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    const ws = parseWsRequest(req);
    if (!ws) return refuseUpgrade(socket, 404, 'NOT_FOUND', 'No WebSocket endpoint here; use /ws');
    opts
      .authenticate(ws.token)
      .then((userId) => {
        if (!userId) return refuseUpgrade(socket, 401, 'UNAUTHORIZED', 'A valid access token is required');
        wss.handleUpgrade(req, socket, head, (client: WebSocket) => {
          registry.add(userId, client);
          client.on('error', (err) => opts.logger.debug({ err: err.message }, 'websocket error'));
          wss.emit('connection', client, req);
          client.send(JSON.stringify({ type: 'ready' }));
        });
      })
      .catch((err: unknown) => {
        opts.logger.error({ err }, 'websocket authentication failed');
        socket.destroy();
      });
  };
  opts.server.on('upgrade', onUpgrade);

  return {
    noteEvents: bus,
    async close() {
      opts.server.off('upgrade', onUpgrade);
      stopHeartbeat();
      const closed = [...wss.clients].map(
        (client) =>
          new Promise<void>((resolve) => {
            client.once('close', () => resolve());
            client.close(1001, 'server shutting down');
            setTimeout(() => {
              client.terminate();
              resolve();
            }, CLOSE_DEADLINE_MS).unref();
          }),
      );
      await Promise.all(closed);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await bus.close();
    },
  };
}
