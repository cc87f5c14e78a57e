import {
  check,
  expectEmptyBody,
  expectErrorBody,
  expectJsonBody,
  expectRace,
  expectStatus,
  expectValidationFailed,
  inCase,
  is,
  randomText,
  sandbox,
  sleep,
  together,
} from '@sandbox/harness';
import { newUser } from '../../04-login-jwt/checks/session';
import { createNote, noteShape, type Note } from './notes';

const lesson = '(steps/05-notes-crud/README.md)';

check(
  'POST /notes answers 201 with the note; body defaults to ""; bad titles and bodies are 400 VALIDATION_FAILED',
  {
    concurrent: true,
    points: 3,
    hint: `Validate {title: a string of 1-200 chars, body?: a string of <= 10000 chars} on POST and PATCH alike, with one detail per bad field ("title", "body"); insert with user_id = req.user.id, answer 201 {"note":{id,title,body,createdAt,updatedAt}} ${lesson}.`,
  },
  async () => {
    const { app } = sandbox();
    const { token } = await newUser();
    const title = sandbox().unique('title');
    const body = `body ${sandbox().unique('text')}`;
    const full = await app.http.post('/notes', { token, json: { title, body } });
    expectStatus(full, 201);
    expectJsonBody(full, { note: is.exactly({ ...noteShape, title, body }) });
    const longest = randomText(200);
    const bare = await app.http.post('/notes', { token, json: { title: longest } });
    expectStatus(bare, 201);
    expectJsonBody(bare, { note: { title: longest, body: '' } });
    const bad: [string, unknown, string][] = [
      ['no title', { body: randomText(8) }, 'title'],
      ['an empty title', { title: '' }, 'title'],
      ['a title of 201 characters', { title: randomText(201) }, 'title'],
      ['a body of 10001 characters', { title, body: randomText(10_001) }, 'body'],
      ['a numeric title', { title: 42 }, 'title'],
      ['a numeric body', { title, body: 42 }, 'body'],
    ];
    for (const [name, json, field] of bad) {
      await inCase(`POST /notes with ${name}`, async () =>
        expectValidationFailed(await app.http.post('/notes', { token, json }), [field]),
      );
    }
    // No body at all (no Content-Type): req.body is undefined in Express 5.
    await inCase('POST /notes without a body', async () =>
      expectErrorBody(await app.http.post('/notes', { token }), 400, 'VALIDATION_FAILED'),
    );
    const note = (full.response.json as { note: { id: string } }).note;
    await inCase('PATCH with neither title nor body', async () =>
      expectErrorBody(
        await app.http.patch(`/notes/${note.id}`, { token, json: {} }),
        400,
        'VALIDATION_FAILED',
      ),
    );
    await inCase('PATCH without a body', async () =>
      expectErrorBody(
        await app.http.patch(`/notes/${note.id}`, { token }),
        400,
        'VALIDATION_FAILED',
      ),
    );
    // PATCH holds the POST rules for the fields it gets; a body with neither field is refused
    // however many other fields it has.
    const badPatches: [string, unknown][] = [
      ['a title of 201 characters', { title: randomText(201) }],
      ['a numeric body', { body: 42 }],
      ['neither title nor body, only another field', { color: 'red' }],
    ];
    for (const [name, json] of badPatches) {
      await inCase(`PATCH with ${name}`, async () =>
        expectErrorBody(
          await app.http.patch(`/notes/${note.id}`, { token, json }),
          400,
          'VALIDATION_FAILED',
        ),
      );
    }
  },
);

check(
  'GET, PATCH and DELETE /notes/:id work on your own note',
  {
    concurrent: true,
    points: 4,
    hint: `Answer notes with exactly {id,title,body,createdAt,updatedAt}; PATCH updates only the fields sent and moves updatedAt on; DELETE answers 204 with no body; afterwards the note is 404 ${lesson}.`,
  },
  async () => {
    const { app } = sandbox();
    const { token } = await newUser();
    const [firstBody, secondBody] = [sandbox().unique('first'), sandbox().unique('second')];
    const created = await app.http.post('/notes', {
      token,
      json: { title: sandbox().unique('title'), body: firstBody },
    });
    expectStatus(created, 201);
    const note = (created.response.json as { note: Note }).note;
    const got = await app.http.get(`/notes/${note.id}`, { token });
    expectStatus(got, 200);
    expectJsonBody(got, { note: is.exactly({ ...note }) });
    await sleep(5);
    const title = sandbox().unique('renamed');
    const patched = await app.http.patch(`/notes/${note.id}`, { token, json: { title } });
    expectStatus(patched, 200);
    expectJsonBody(patched, {
      note: {
        id: note.id,
        title,
        body: firstBody,
        createdAt: note.createdAt,
        updatedAt: is.satisfying(
          `later than ${note.updatedAt}`,
          (v) => typeof v === 'string' && Date.parse(v) > Date.parse(note.updatedAt),
        ),
      },
    });
    expectJsonBody(patched, { note: is.exactly(noteShape) });
    const bodyOnly = await app.http.patch(`/notes/${note.id}`, {
      token,
      json: { body: secondBody },
    });
    expectStatus(bodyOnly, 200);
    expectJsonBody(bodyOnly, { note: { title, body: secondBody } });
    const badPatch = await app.http.patch(`/notes/${note.id}`, { token, json: { title: '' } });
    expectErrorBody(badPatch, 400, 'VALIDATION_FAILED');
    const deleted = await app.http.delete(`/notes/${note.id}`, { token });
    expectStatus(deleted, 204);
    expectEmptyBody(deleted);
    expectErrorBody(await app.http.get(`/notes/${note.id}`, { token }), 404, 'NOT_FOUND');
    expectErrorBody(await app.http.delete(`/notes/${note.id}`, { token }), 404, 'NOT_FOUND');
  },
);

check(
  'concurrent requests on one note: PATCHes all answer 200, DELETEs have one 204 and the others 404 NOT_FOUND',
  {
    concurrent: true,
    points: 3,
    hint: `Let one statement decide: UPDATE/DELETE ... WHERE id = $1 AND user_id = $2 (RETURNING) and answer from the rows it touched, rather than reading the note first and writing after ${lesson}.`,
  },
  async () => {
    const { app } = sandbox();
    const user = await newUser();
    const note = await createNote(user.token);
    let n = 0;
    const patches = await together(4, (gate) =>
      app.http.patch(`/notes/${note.id}`, {
        token: user.token,
        json: { title: `${note.title}-${++n}` },
        timeoutMs: 10_000,
        gate,
      }),
    );
    expectRace(patches, { win: 200, lose: 404, code: 'NOT_FOUND', winners: patches.length });
    // Two rounds, each on a note of its own: the first also gives the app's database pool its
    // connections, so the second's DELETEs meet them ready rather than one after another.
    for (const target of [note, await createNote(user.token)]) {
      const deletes = await together(5, (gate) =>
        app.http.delete(`/notes/${target.id}`, { token: user.token, timeoutMs: 10_000, gate }),
      );
      expectRace(deletes, { win: 204, lose: 404, code: 'NOT_FOUND' });
      expectErrorBody(
        await app.http.get(`/notes/${target.id}`, { token: user.token }),
        404,
        'NOT_FOUND',
      );
    }
  },
);
