import {
  check,
  eventually,
  expectHeader,
  expectJsonBody,
  expectStatus,
  expectWithin,
  sandbox,
} from '@sandbox/harness';
import { newUser } from '../../04-login-jwt/checks/session';
import { createNote } from '../../05-notes-crud/checks/notes';

check(
  'with Redis stopped GET /notes/:id still answers 200 quickly, and uses the cache again once Redis is back',
  {
    points: 4,
    hint: 'Treat the cache as optional: give Redis calls a short timeout (ioredis enableOfflineQueue: false, commandTimeout), catch their errors, and fall back to Postgres (steps/06-caching/README.md).',
    timeoutMs: 20_000,
  },
  async () => {
    const { app, faults } = sandbox();
    const { token } = await newUser();
    const note = await createNote(token);
    await faults.redis.down();
    try {
      for (let i = 0; i < 2; i += 1) {
        const ex = await app.http.get(`/notes/${note.id}`, { token, timeoutMs: 4000 });
        expectStatus(ex, 200);
        expectJsonBody(ex, { note: { id: note.id, title: note.title } });
        // Generous for a loaded machine; an app waiting on Redis takes seconds (or never answers).
        expectWithin(ex, 2000);
      }
    } finally {
      await faults.redis.up();
    }
    await eventually(
      async () => {
        expectStatus(await app.http.get(`/notes/${note.id}`, { token }), 200);
        const ex = await app.http.get(`/notes/${note.id}`, { token });
        expectHeader(ex, 'X-Cache', 'HIT');
      },
      8000,
      200,
    );
  },
);
