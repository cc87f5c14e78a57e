import WebSocket from 'ws';
import type { RunningApp } from '../src/start';
import { createWorld, startInProcess, type TestWorld } from './support/world';
import { json } from './support/http';
import { signUpAndLogIn } from './support/users';

jest.setTimeout(20_000);

interface Client {
  socket: WebSocket;
  messages: { type?: string; note?: { id?: string; title?: string } }[];
  waitFor(type: string, timeoutMs?: number): Promise<void>;
}

function connect(url: string, token: string, opts: { autoPong?: boolean } = {}): Promise<Client> {
  const socket = new WebSocket(`${url.replace('http', 'ws')}/ws?token=${token}`, {
    autoPong: opts.autoPong ?? true,
  });
  const messages: Client['messages'] = [];
  socket.on('message', (data: Buffer) =>
    messages.push(JSON.parse(data.toString()) as Client['messages'][number]),
  );
  const waitFor = async (type: string, timeoutMs = 5000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!messages.some((m) => m.type === type)) {
      if (Date.now() > deadline)
        throw new Error(`no ${type} within ${timeoutMs} ms: ${JSON.stringify(messages)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve({ socket, messages, waitFor }));
    socket.once('error', reject);
  });
}

function refusedStatus(url: string, query: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url.replace('http', 'ws')}/ws${query}`);
    socket.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('open', () => reject(new Error('the upgrade was accepted')));
    socket.once('error', () => undefined);
  });
}

describe('WebSockets (step 8)', () => {
  let world: TestWorld;
  let a: RunningApp;
  let b: RunningApp;
  const open: WebSocket[] = [];
  beforeAll(async () => {
    world = await createWorld({ WS_HEARTBEAT_MS: '200' });
    a = await startInProcess(world);
    b = await startInProcess(world);
  });
  afterEach(() => {
    for (const s of open.splice(0)) s.terminate();
  });
  afterAll(async () => {
    await Promise.all([a.stop(), b.stop()]);
    await world.close();
  });

  it('refuses the upgrade with 401 without a valid token', async () => {
    expect(await refusedStatus(a.url, '')).toBe(401);
    expect(await refusedStatus(a.url, '?token=not-a-jwt')).toBe(401);
  });

  it('sends ready, then every note change to every socket of the owner and to nobody else', async () => {
    const owner = await signUpAndLogIn(a.url);
    const other = await signUpAndLogIn(a.url);
    const [first, second, stranger] = await Promise.all([
      connect(a.url, owner.accessToken),
      connect(a.url, owner.accessToken),
      connect(a.url, other.accessToken),
    ]);
    open.push(first.socket, second.socket, stranger.socket);
    await Promise.all([first.waitFor('ready'), second.waitFor('ready'), stranger.waitFor('ready')]);

    const created = await json(`${a.url}/notes`, {
      body: { title: 'hello' },
      token: owner.accessToken,
    });
    const id = String((created.body.note as { id: string }).id);
    await json(`${a.url}/notes/${id}`, {
      method: 'PATCH',
      body: { title: 'changed' },
      token: owner.accessToken,
    });
    await json(`${a.url}/notes/${id}`, { method: 'DELETE', token: owner.accessToken });
    for (const client of [first, second]) {
      await client.waitFor('note.deleted');
      expect(client.messages.map((m) => m.type)).toEqual([
        'ready',
        'note.created',
        'note.updated',
        'note.deleted',
      ]);
      expect(client.messages[2]?.note).toMatchObject({ id, title: 'changed' });
    }
    expect(stranger.messages.map((m) => m.type)).toEqual(['ready']);
  });

  it('delivers a change made through one instance to a socket on another', async () => {
    const owner = await signUpAndLogIn(a.url);
    const onB = await connect(b.url, owner.accessToken);
    open.push(onB.socket);
    await onB.waitFor('ready');
    await json(`${a.url}/notes`, { body: { title: 'across' }, token: owner.accessToken });
    await onB.waitFor('note.created');
    expect(onB.messages.find((m) => m.type === 'note.created')?.note).toMatchObject({
      title: 'across',
    });
  });

  it('terminates a peer that does not answer pings', async () => {
    const owner = await signUpAndLogIn(a.url);
    const dead = await connect(a.url, owner.accessToken, { autoPong: false });
    open.push(dead.socket);
    const code = await new Promise<number>((resolve) =>
      dead.socket.once('close', (c: number) => resolve(c)),
    );
    expect(code).toBe(1006);
  });

  it('keeps a peer that answers pings', async () => {
    const owner = await signUpAndLogIn(a.url);
    const alive = await connect(a.url, owner.accessToken);
    open.push(alive.socket);
    await new Promise((r) => setTimeout(r, 800));
    expect(alive.socket.readyState).toBe(WebSocket.OPEN);
  });
});
