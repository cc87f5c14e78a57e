import { fail, type AppInstance, type WsConnection, type WsMessage } from '@sandbox/harness';

/** Opens /ws with a token and waits for {"type":"ready"}. */
export async function openSocket(
  app: AppInstance,
  token: string,
  autoPong = true,
): Promise<WsConnection> {
  const result = await app.ws(`/ws?token=${encodeURIComponent(token)}`, {
    autoPong,
    timeoutMs: 3000,
  });
  if (!result.ok) {
    fail(`the WebSocket upgrade to /ws with a valid token was refused (${result.status})`, {
      expected: 'the upgrade to succeed, then {"type":"ready"}',
      observed: `status ${result.status} ${result.body.slice(0, 200)}`,
    });
  }
  await waitForMessage(
    result.socket,
    (m) => typeOf(m) === 'ready',
    '{"type":"ready"} after connecting',
    3000,
  );
  return result.socket;
}

export function typeOf(m: WsMessage): unknown {
  return (m.json as { type?: unknown } | undefined)?.type;
}

export function noteIdOf(m: WsMessage): unknown {
  return (m.json as { note?: { id?: unknown } } | undefined)?.note?.id;
}

export async function waitForMessage(
  socket: WsConnection,
  pred: (m: WsMessage) => boolean,
  what: string,
  timeoutMs = 3000,
): Promise<WsMessage> {
  try {
    return await socket.waitFor(pred, timeoutMs);
  } catch {
    fail(`no ${what} arrived on the WebSocket within ${timeoutMs / 1000} s`, {
      expected: what,
      observed: `messages received: ${socket.messages.map((m) => m.text.slice(0, 120)).join(' | ') || 'none'}`,
    });
  }
}

export function eventFor(type: string, noteId: string): (m: WsMessage) => boolean {
  return (m) => typeOf(m) === type && noteIdOf(m) === noteId;
}
