import {
  check,
  eventually,
  expectErrorBody,
  expectHeader,
  expectJsonBody,
  expectShape,
  expectStatus,
  fail,
  is,
  sandbox,
} from '@sandbox/harness';
import { newUser } from '../../04-login-jwt/checks/session';
import { createNote } from '../../05-notes-crud/checks/notes';
import { cacheKeysFor } from './cache';

const lesson = '(steps/06-caching/README.md)';

check(
  'GET /notes/:id answers X-Cache: MISS, then HIT with the same body',
  {
    concurrent: true,
    points: 3,
    hint: `Read cache:note:<id> first; on a miss load from Postgres, SET it with EX, and answer X-Cache: MISS; on a hit answer the cached note with X-Cache: HIT ${lesson}.`,
  },
  async () => {
    const { app } = sandbox();
    const { token } = await newUser();
    const note = await createNote(token);
    const miss = await app.http.get(`/notes/${note.id}`, { token });
    expectStatus(miss, 200);
    expectHeader(miss, 'X-Cache', 'MISS');
    const hit = await eventually(async () => {
      const ex = await app.http.get(`/notes/${note.id}`, { token });
      expectHeader(ex, 'X-Cache', 'HIT');
      return ex;
    }, 1000);
    expectStatus(hit, 200);
    expectJsonBody(hit, miss.response.json);
  },
);

check(
  'cache keys start with cache:, contain the note id and carry a TTL between 1 s and 1 day',
  {
    concurrent: true,
    points: 3,
    hint: `Always SET with EX (e.g. 60 s): a key without a TTL lives for ever ${lesson}.`,
  },
  async () => {
    const { app, redis } = sandbox();
    const { token } = await newUser();
    const note = await createNote(token);
    expectStatus(await app.http.get(`/notes/${note.id}`, { token }), 200);
    const keys = await eventually(async () => {
      const found = await cacheKeysFor(note.id);
      if (found.length === 0)
        fail(`no Redis key matching cache:*${note.id}* after GET /notes/${note.id}`, {
          expected: 'a cache:... key containing the note id',
        });
      return found;
    }, 1000);
    for (const key of keys) {
      const ttl = Number(await redis.call('PTTL', key));
      expectShape(ttl, is.between(1000, 86_400_000), `PTTL of ${key} in ms (-1 = no TTL)`);
    }
  },
);

check(
  'PATCH and DELETE invalidate the cache: no read is ever stale',
  {
    concurrent: true,
    points: 4,
    hint: `After a successful UPDATE or DELETE, DEL the note's cache key before answering ${lesson}.`,
  },
  async () => {
    const { app } = sandbox();
    const { token } = await newUser();
    const note = await createNote(token);
    for (let round = 0; round < 3; round += 1) {
      expectStatus(await app.http.get(`/notes/${note.id}`, { token }), 200);
      expectStatus(await app.http.get(`/notes/${note.id}`, { token }), 200);
      const title = sandbox().unique(`edit${round}`);
      expectStatus(
        await app.http.patch(`/notes/${note.id}`, { token, json: { title, body: title } }),
        200,
      );
      const after = await app.http.get(`/notes/${note.id}`, { token });
      expectStatus(after, 200);
      expectJsonBody(after, { note: { title, body: title } });
    }
    expectStatus(await app.http.delete(`/notes/${note.id}`, { token }), 204);
    expectErrorBody(await app.http.get(`/notes/${note.id}`, { token }), 404, 'NOT_FOUND');
  },
);

check(
  'a cached note is still 404 NOT_FOUND for another user',
  {
    concurrent: true,
    points: 2,
    hint: `Key the cache by note id but check the owner on every read, hit or miss ${lesson}.`,
  },
  async () => {
    const { app } = sandbox();
    const alice = await newUser();
    const bob = await newUser();
    const note = await createNote(alice.token);
    expectStatus(await app.http.get(`/notes/${note.id}`, { token: alice.token }), 200);
    expectHeader(await app.http.get(`/notes/${note.id}`, { token: alice.token }), 'X-Cache', 'HIT');
    expectErrorBody(
      await app.http.get(`/notes/${note.id}`, { token: bob.token }),
      404,
      'NOT_FOUND',
    );
  },
);
