import { randomUUID } from 'node:crypto';
import {
  check,
  expectErrorBody,
  expectJsonBody,
  expectStatus,
  inCase,
  sandbox,
} from '@sandbox/harness';
import { newUser } from '../../04-login-jwt/checks/session';
import { createNote } from './notes';

const lesson = '(steps/05-notes-crud/README.md)';

check(
  'every /notes route answers 401 UNAUTHORIZED without a valid token',
  {
    concurrent: true,
    points: 2,
    hint: `Mount passport.authenticate("jwt", { session: false }) in front of the whole /notes router ${lesson}.`,
  },
  async () => {
    const { app } = sandbox();
    const owner = await newUser();
    const note = await createNote(owner.token);
    const routes: [string, string][] = [
      ['POST', '/notes'],
      ['GET', '/notes'],
      ['GET', `/notes/${note.id}`],
      ['PATCH', `/notes/${note.id}`],
      ['DELETE', `/notes/${note.id}`],
    ];
    for (const [method, path] of routes) {
      const json =
        method === 'POST' || method === 'PATCH' ? { title: sandbox().unique('sneaky') } : undefined;
      expectErrorBody(
        await app.http.request(method, path, json ? { json } : {}),
        401,
        'UNAUTHORIZED',
      );
      expectErrorBody(
        await app.http.request(method, path, { ...(json ? { json } : {}), token: 'garbage' }),
        401,
        'UNAUTHORIZED',
      );
    }
    expectJsonBody(await app.http.get(`/notes/${note.id}`, { token: owner.token }), {
      note: { title: note.title },
    });
  },
);

check(
  "another user's note is 404 NOT_FOUND for every verb and stays untouched; unknown and non-UUID ids are 404 too",
  {
    concurrent: true,
    points: 5,
    hint: `Always filter by owner: where({ id, user_id: req.user.id }); answer 404 (not 403) so ids of others are not revealed; check the id is a UUID before querying ${lesson}.`,
  },
  async () => {
    const { app } = sandbox();
    const alice = await newUser();
    const bob = await newUser();
    const secret = sandbox().unique('private');
    const note = await createNote(alice.token, { body: secret });
    const probes: [string, string, object | undefined][] = [
      ['GET', `/notes/${note.id}`, undefined],
      ['PATCH', `/notes/${note.id}`, { title: sandbox().unique('taken-over') }],
      ['DELETE', `/notes/${note.id}`, undefined],
    ];
    for (const [method, path, json] of probes) {
      await inCase(`as another user, ${method} ${path}`, async () =>
        expectErrorBody(
          await app.http.request(method, path, { token: bob.token, ...(json ? { json } : {}) }),
          404,
          'NOT_FOUND',
        ),
      );
    }
    const list = await app.http.get('/notes', { token: bob.token });
    expectStatus(list, 200);
    expectJsonBody(list, { notes: [] });
    const still = await app.http.get(`/notes/${note.id}`, { token: alice.token });
    expectStatus(still, 200);
    expectJsonBody(still, {
      note: { title: note.title, body: secret, updatedAt: note.updatedAt },
    });
    for (const id of [randomUUID(), 'not-a-uuid', '1', "1' OR '1'='1"]) {
      for (const method of ['GET', 'PATCH', 'DELETE']) {
        await inCase(`${method} an unknown id`, async () =>
          expectErrorBody(
            await app.http.request(method, `/notes/${encodeURIComponent(id)}`, {
              token: alice.token,
              ...(method === 'PATCH' ? { json: { title: sandbox().unique('x') } } : {}),
            }),
            404,
            'NOT_FOUND',
          ),
        );
      }
    }
  },
);

check(
  'injection-shaped text is stored and returned verbatim',
  {
    concurrent: true,
    points: 2,
    hint: `Use knex's query builder or bound parameters (never string concatenation), and return text as-is, neither trimmed nor escaped: that is the client's job ${lesson}.`,
  },
  async () => {
    const { app } = sandbox();
    const { token } = await newUser();
    // Spaces at the ends belong to the text too: nothing is trimmed.
    const title = ` '); DROP TABLE notes; -- ${sandbox().unique('t')}  `;
    const body = `\n  <script>alert("x")</script> \\' OR 1=1 -- $1 \${process.env} {{7*7}} %s \u00e9\u{1F600} \t`;
    const created = await app.http.post('/notes', { token, json: { title, body } });
    expectStatus(created, 201);
    expectJsonBody(created, { note: { title, body } });
    const id = (created.response.json as { note: { id: string } }).note.id;
    expectJsonBody(await app.http.get(`/notes/${id}`, { token }), { note: { title, body } });
    const list = await app.http.get('/notes', { token });
    expectStatus(list, 200);
    expectJsonBody(list, { notes: [{ id, title, body }] });
  },
);
