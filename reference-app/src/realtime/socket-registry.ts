import type { WebSocket } from 'ws';

/** The open sockets of this instance, by user. */
export class SocketRegistry {
  private readonly byUser = new Map<string, Set<WebSocket>>();

  add(userId: string, socket: WebSocket): void {
    const sockets = this.byUser.get(userId) ?? new Set<WebSocket>();
    sockets.add(socket);
    this.byUser.set(userId, sockets);
    socket.once('close', () => this.remove(userId, socket));
  }

  /** Sends one already-serialised message to every open socket of the user. */
  send(userId: string, message: string): void {
    for (const socket of this.byUser.get(userId) ?? []) {
      if (socket.readyState === socket.OPEN) socket.send(message);
    }
  }

  private remove(userId: string, socket: WebSocket): void {
    const sockets = this.byUser.get(userId);
    if (!sockets) return;
    sockets.delete(socket);
    if (sockets.size === 0) this.byUser.delete(userId);
  }
}
