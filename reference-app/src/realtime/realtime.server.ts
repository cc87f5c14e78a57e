import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../lib/logger';
import type { Redis } from '../lib/redis';
import type { NoteEventPublisher } from '../notes/notes.types';
import { startHeartbeat } from './heartbeat';
import { startNoteEventsBus } from './note-events.bus';
import { SocketRegistry } from './socket-registry';
import { parseWsRequest, refuseUpgrade } from './upgrade';

export interface RealtimeOptions {
  /** The user id of a valid, unrevoked access token, or null. */
  authenticate(token: string): Promise<string | null>;
  heartbeatMs: number;
  /** Connections for PUBLISH and for SUBSCRIBE (a subscribed connection can do nothing else). */
  publisher: Redis;
  subscriber: Redis;
  channel: string;
  logger: Logger;
}

export interface Realtime {
  noteEvents: NoteEventPublisher;
  /** Serves /ws on the app's own HTTP server. */
  attach(server: Server): void;
  /** Closes every socket (1001 going away), the WebSocket server and the subscription. */
  close(): Promise<void>;
}

const CLOSE_DEADLINE_MS = 1000;

/** WebSockets on the app's HTTP server: authenticated upgrade on /ws, per-user fan-out, heartbeat. */
export async function startRealtime(opts: RealtimeOptions): Promise<Realtime> {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const registry = new SocketRegistry();
  const stopHeartbeat = startHeartbeat(wss, opts.heartbeatMs);
  const bus = await startNoteEventsBus({
    publisher: opts.publisher,
    subscriber: opts.subscriber,
    channel: opts.channel,
    deliver: (userId, message) => registry.send(userId, message),
    logger: opts.logger,
  });

  const accept = (req: IncomingMessage, socket: Duplex, head: Buffer, userId: string): void => {
    wss.handleUpgrade(req, socket, head, (client: WebSocket) => {
      registry.add(userId, client);
      client.on('error', (err) => opts.logger.debug({ err: err.message }, 'websocket error'));
      wss.emit('connection', client, req);
      client.send(JSON.stringify({ type: 'ready' }));
    });
  };
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    const ws = parseWsRequest(req);
    if (!ws) return refuseUpgrade(socket, 404, 'NOT_FOUND', 'No WebSocket endpoint here; use /ws');
    opts.authenticate(ws.token).then(
      (userId) => {
        if (userId) accept(req, socket, head, userId);
        else refuseUpgrade(socket, 401, 'UNAUTHORIZED', 'A valid access token is required');
      },
      (err: unknown) => {
        opts.logger.error({ err }, 'websocket authentication failed');
        socket.destroy();
      },
    );
  };
  let server: Server | undefined;

  return {
    noteEvents: { publish: (userId, event) => void bus.publish(userId, event) },
    attach(s) {
      server = s;
      s.on('upgrade', onUpgrade);
    },
    async close() {
      server?.off('upgrade', onUpgrade);
      stopHeartbeat();
      await Promise.all([...wss.clients].map(closeClient));
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await bus.close();
    },
  };
}

function closeClient(client: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      client.terminate();
      resolve();
    }, CLOSE_DEADLINE_MS);
    client.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    client.close(1001, 'server shutting down');
  });
}
