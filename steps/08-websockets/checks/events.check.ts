import { check, expectShape, fail, is, sandbox, sleep } from '@sandbox/harness';
import { newUser } from '../../04-login-jwt/checks/session';
import { noteShape } from '../../05-notes-crud/checks/notes';
import { createNote } from '../../05-notes-crud/checks/notes';
import { eventFor, openSocket, typeOf, waitForMessage } from './sockets';

const lesson = '(steps/08-websockets/README.md)';

check(
  "note.created/updated/deleted reach every socket of the owner, and nobody else's",
  {
    concurrent: true,
    points: 5,
    hint: `Keep a Map<userId, Set<WebSocket>>; after each change publish {type, note} (the whole note as the API answers it; only {id} for note.deleted) for note.userId and send it only to that user's sockets ${lesson}.`,
  },
  async () => {
    const { app } = sandbox();
    const alice = await newUser();
    const bob = await newUser();
    const aliceSockets = [await openSocket(app, alice.token), await openSocket(app, alice.token)];
    const bobSocket = await openSocket(app, bob.token);
    try {
      const note = await createNote(alice.token);
      const title = sandbox().unique('changed');
      for (const socket of aliceSockets) {
        const created = await waitForMessage(
          socket,
          eventFor('note.created', note.id),
          `note.created for ${note.id}`,
        );
        expectShape(
          created.json,
          { type: 'note.created', note: { ...noteShape, id: note.id, title: note.title } },
          'note.created event',
        );
      }
      await sandbox().app.http.patch(`/notes/${note.id}`, { token: alice.token, json: { title } });
      for (const socket of aliceSockets) {
        const updated = await waitForMessage(
          socket,
          eventFor('note.updated', note.id),
          `note.updated for ${note.id}`,
        );
        // The whole note as it is now, like the PATCH answer: not only the fields that changed.
        expectShape(
          updated.json,
          {
            type: 'note.updated',
            note: { ...noteShape, id: note.id, title, body: note.body },
          },
          'note.updated event',
        );
      }
      await sandbox().app.http.delete(`/notes/${note.id}`, { token: alice.token });
      for (const socket of aliceSockets) {
        const deleted = await waitForMessage(
          socket,
          eventFor('note.deleted', note.id),
          `note.deleted for ${note.id}`,
        );
        expectShape(
          deleted.json,
          { type: 'note.deleted', note: { id: note.id } },
          'note.deleted event',
        );
      }
      // Bob's own event marks the point by which any leak of Alice's events would have arrived.
      const bobNote = await createNote(bob.token);
      await waitForMessage(
        bobSocket,
        eventFor('note.created', bobNote.id),
        `note.created for Bob's own note`,
      );
      await sleep(50);
      const leaked = bobSocket.messages.filter(
        (m) => typeOf(m) !== 'ready' && JSON.stringify(m.json).includes(note.id),
      );
      if (leaked.length > 0) {
        fail(
          `another user's socket received ${leaked.length} event(s) about a note that is not theirs`,
          {
            expected: "events only on the owner's sockets",
            observed: leaked.map((m) => m.text.slice(0, 200)).join('\n'),
          },
        );
      }
      const aliceGotBob = aliceSockets.some((s) =>
        s.messages.some((m) => JSON.stringify(m.json).includes(bobNote.id)),
      );
      expectShape(aliceGotBob, false, "whether the other user's socket received Bob's event");
      expectShape(bobSocket.messages[0]?.json, is.exactly({ type: 'ready' }), 'first message');
    } finally {
      for (const s of [...aliceSockets, bobSocket]) s.close();
    }
  },
);
