import { check, sandbox } from '@sandbox/harness';
import { newUser } from '../../04-login-jwt/checks/session';
import { createNote } from '../../05-notes-crud/checks/notes';
import { eventFor, openSocket, waitForMessage } from './sockets';

check(
  'a change made through one app instance reaches sockets connected to another',
  {
    concurrent: true,
    points: 4,
    hint: 'Publish each event on a Redis channel and let every instance subscribe and deliver to its own sockets (a separate ioredis connection for the subscriber) (steps/08-websockets/README.md).',
    timeoutMs: 30_000,
  },
  async () => {
    const { app } = sandbox();
    // The user is made through the primary while the second instance starts.
    const [second, user] = await Promise.all([sandbox().startInstance(), newUser()]);
    const onSecond = await openSocket(second, user.token);
    const onFirst = await openSocket(app, user.token);
    try {
      const note = await createNote(user.token);
      await waitForMessage(
        onSecond,
        eventFor('note.created', note.id),
        `note.created for ${note.id} on the other instance`,
      );
      const viaSecond = await second.http.post('/notes', {
        token: user.token,
        json: { title: sandbox().unique('from-the-second-instance') },
      });
      const id = String(
        (viaSecond.response.json as { note?: { id?: unknown } } | undefined)?.note?.id,
      );
      await waitForMessage(
        onFirst,
        eventFor('note.created', id),
        `note.created for ${id} made on the other instance`,
      );
    } finally {
      onSecond.close();
      onFirst.close();
      await second.stop();
    }
  },
);
