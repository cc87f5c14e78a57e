import { randomUUID } from 'node:crypto';
import { startTestApp, type TestApp } from './support/app';
import { client } from './support/http';
import { newUser } from './support/users';

// Real services, and a machine shared with other suites: starting an app can take seconds.
jest.setTimeout(20_000);

interface NoteBody {
  id: string;
  title: string;
  body: string;
  createdAt: string;
  updatedAt: string;
}
interface ErrorBody {
  error: { code: string; details?: { field: string }[] };
}
type NoteRes = { note: NoteBody } & ErrorBody;
type PageRes = { notes: NoteBody[]; nextCursor: string | null } & ErrorBody;

describe('step 5: /notes', () => {
  let app: TestApp;
  let alice: ReturnType<typeof client>;
  let bob: ReturnType<typeof client>;
  beforeAll(async () => {
    app = await startTestApp();
    alice = client(app.url, (await newUser(app.url)).token);
    bob = client(app.url, (await newUser(app.url)).token);
  });
  afterAll(() => app.stop());

  const createNote = async (as: typeof alice, title = 'a title', body?: string) => {
    const res = await as.post<NoteRes>('/notes', {
      body: body === undefined ? { title } : { title, body },
    });
    if (res.status !== 201) throw new Error(`create failed: ${res.status} ${res.text}`);
    return res.body.note;
  };

  it('POST /notes answers 201 with the note, body defaulting to ""', async () => {
    const res = await alice.post<NoteRes>('/notes', { body: { title: 'first' } });
    expect(res.status).toBe(201);
    expect(res.body.note).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      title: 'first',
      body: '',
      createdAt: expect.any(String),
      updatedAt: res.body.note.createdAt,
    });
  });

  it('stores SQL- and HTML-shaped text verbatim', async () => {
    const title = "'); drop table notes; --";
    const body = '<script>alert("x")</script> %s ${1} \\0 \u00e9\u{1F600}';
    const created = await createNote(alice, title, body);
    const res = await alice.get<NoteRes>(`/notes/${created.id}`);
    expect(res.body.note).toMatchObject({ title, body });
  });

  it.each([
    ['an empty title', { title: '' }, 'title'],
    ['a missing title', { body: 'x' }, 'title'],
    ['a title over 200 characters', { title: 't'.repeat(201) }, 'title'],
    ['a body over 10000 characters', { title: 't', body: 'b'.repeat(10_001) }, 'body'],
    ['a body that is not a string', { title: 't', body: 5 }, 'body'],
  ])('POST /notes refuses %s with 400 VALIDATION_FAILED', async (_why, body, field) => {
    const res = await alice.post<ErrorBody>('/notes', { body });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field }] });
  });

  it('accepts a title of 200 and a body of 10000 characters', async () => {
    const res = await alice.post<NoteRes>('/notes', {
      body: { title: 't'.repeat(200), body: 'b'.repeat(10_000) },
    });
    expect(res.status).toBe(201);
  });

  it('PATCH changes the given fields and moves updatedAt on', async () => {
    const note = await createNote(alice, 'before', 'kept');
    const res = await alice.patch<NoteRes>(`/notes/${note.id}`, { body: { title: 'after' } });
    expect(res.status).toBe(200);
    expect(res.body.note).toMatchObject({
      id: note.id,
      title: 'after',
      body: 'kept',
      createdAt: note.createdAt,
    });
    expect(Date.parse(res.body.note.updatedAt)).toBeGreaterThan(Date.parse(note.updatedAt));
  });

  it('PATCH refuses an empty change and a bad title with 400', async () => {
    const note = await createNote(alice);
    expect((await alice.patch(`/notes/${note.id}`, { body: {} })).status).toBe(400);
    expect((await alice.patch(`/notes/${note.id}`, { body: { title: '' } })).status).toBe(400);
  });

  it('DELETE answers 204 without a body, then the note is gone', async () => {
    const note = await createNote(alice);
    const res = await alice.delete(`/notes/${note.id}`);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect((await alice.get(`/notes/${note.id}`)).status).toBe(404);
    expect((await alice.delete(`/notes/${note.id}`)).status).toBe(404);
  });

  it("answers 404 NOT_FOUND for another user's note on every verb, and leaves it untouched", async () => {
    const note = await createNote(alice, 'private');
    for (const res of [
      await bob.get<ErrorBody>(`/notes/${note.id}`),
      await bob.patch<ErrorBody>(`/notes/${note.id}`, { body: { title: 'hijack' } }),
      await bob.delete<ErrorBody>(`/notes/${note.id}`),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
    expect((await alice.get<NoteRes>(`/notes/${note.id}`)).body.note.title).toBe('private');
    const bobsList = await bob.get<PageRes>('/notes?limit=100');
    expect(bobsList.body.notes.map((n) => n.id)).not.toContain(note.id);
  });

  it.each([randomUUID(), 'not-a-uuid', "1' or '1'='1"])(
    'answers 404 for the id %s on every verb',
    async (id) => {
      const path = `/notes/${encodeURIComponent(id)}`;
      expect((await alice.get(path)).status).toBe(404);
      expect((await alice.patch(path, { body: { title: 'x' } })).status).toBe(404);
      expect((await alice.delete(path)).status).toBe(404);
    },
  );

  it('answers 401 UNAUTHORIZED on every route without a token', async () => {
    const anonymous = client(app.url);
    const id = randomUUID();
    for (const res of [
      await anonymous.post<ErrorBody>('/notes', { body: { title: 'x' } }),
      await anonymous.get<ErrorBody>('/notes'),
      await anonymous.get<ErrorBody>(`/notes/${id}`),
      await anonymous.patch<ErrorBody>(`/notes/${id}`, { body: { title: 'x' } }),
      await anonymous.delete<ErrorBody>(`/notes/${id}`),
    ]) {
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('UNAUTHORIZED');
    }
  });

  describe('GET /notes', () => {
    it('lists every note exactly once, newest first, when following nextCursor', async () => {
      const owner = client(app.url, (await newUser(app.url)).token);
      // Created concurrently so several share a millisecond: ties must be broken by id.
      const created = await Promise.all(
        Array.from({ length: 23 }, (_, i) => createNote(owner, `note ${i}`)),
      );
      const seen: NoteBody[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = cursor ? `?limit=5&cursor=${encodeURIComponent(cursor)}` : '?limit=5';
        const res = await owner.get<PageRes>(`/notes${query}`);
        expect(res.status).toBe(200);
        expect(res.body.notes.length).toBeLessThanOrEqual(5);
        seen.push(...res.body.notes);
        cursor = res.body.nextCursor;
        pages++;
      } while (cursor !== null && pages < 10);
      expect(pages).toBe(5);
      expect(seen.map((n) => n.id).sort()).toEqual(created.map((n) => n.id).sort());
      const keys = seen.map((n) => [n.createdAt, n.id] as const);
      const sorted = [...keys].sort((a, b) =>
        a[0] === b[0] ? b[1].localeCompare(a[1]) : b[0].localeCompare(a[0]),
      );
      expect(keys).toEqual(sorted);
    });

    it('defaults to 20 notes and answers nextCursor null on the last page', async () => {
      const owner = client(app.url, (await newUser(app.url)).token);
      await Promise.all(Array.from({ length: 21 }, (_, i) => createNote(owner, `n${i}`)));
      const first = await owner.get<PageRes>('/notes');
      expect(first.body.notes).toHaveLength(20);
      expect(first.body.nextCursor).toEqual(expect.any(String));
      const last = await owner.get<PageRes>(
        `/notes?cursor=${encodeURIComponent(first.body.nextCursor ?? '')}`,
      );
      expect(last.body.notes).toHaveLength(1);
      expect(last.body.nextCursor).toBeNull();
    });

    it.each(['0', '101', 'abc', '1.5', '-1'])(
      'refuses limit=%s with 400 VALIDATION_FAILED',
      async (limit) => {
        const res = await alice.get<ErrorBody>(`/notes?limit=${limit}`);
        expect(res.status).toBe(400);
        expect(res.body.error).toMatchObject({
          code: 'VALIDATION_FAILED',
          details: [{ field: 'limit' }],
        });
      },
    );

    it.each(['garbage', Buffer.from('["x","y"]').toString('base64url'), '%00'])(
      'refuses cursor=%s with 400 VALIDATION_FAILED',
      async (cursor) => {
        const res = await alice.get<ErrorBody>(`/notes?cursor=${cursor}`);
        expect(res.status).toBe(400);
        expect(res.body.error).toMatchObject({
          code: 'VALIDATION_FAILED',
          details: [{ field: 'cursor' }],
        });
      },
    );
  });
});
