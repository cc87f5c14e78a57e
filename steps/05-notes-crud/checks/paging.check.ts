import {
  check,
  expectJsonBody,
  expectShape,
  expectStatus,
  expectValidationFailed,
  fail,
  inCase,
  is,
  sandbox,
} from '@sandbox/harness';
import { newUser } from '../../04-login-jwt/checks/session';
import { createNote, noteShape, type Note } from './notes';

const lesson = '(steps/05-notes-crud/README.md)';

interface Page {
  notes: Note[];
  nextCursor: string | null;
}

check(
  'GET /notes lists your notes newest first, 20 by default, and following nextCursor lists each exactly once',
  {
    concurrent: true,
    points: 5,
    hint: `Use keyset paging: order by created_at desc, id desc; the cursor encodes the last (created_at, id); fetch limit + 1 rows to know if there is a next page. Offsets repeat or skip rows when notes are added meanwhile ${lesson}.`,
  },
  async () => {
    const { app } = sandbox();
    const { token } = await newUser();
    const made: Note[] = [];
    for (let i = 0; i < 23; i += 1) made.push(await createNote(token, { body: `n${i}` }));
    const first = await app.http.get('/notes', { token });
    expectStatus(first, 200);
    expectJsonBody(first, {
      notes: is.arrayOf(is.exactly(noteShape), { length: 20 }),
      nextCursor: is.nonEmptyString,
    });

    const seen: Note[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const path: string = `/notes?limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const ex = await app.http.get(path, { token });
      expectStatus(ex, 200);
      expectJsonBody(ex, { notes: is.array, nextCursor: is.nullable(is.string) });
      const page = ex.response.json as Page;
      seen.push(...page.notes);
      cursor = page.nextCursor;
      pages += 1;
      // a note added while paging is newer than every cursor: it must neither appear nor shift the pages
      if (pages === 1) await createNote(token, { title: sandbox().unique('added-while-paging') });
      if (pages > 10)
        fail('nextCursor never became null', {
          exchange: ex,
          expected: '4 pages of at most 7 for 23 notes',
        });
    } while (cursor);

    const ids = seen.map((n) => n.id);
    const duplicates = ids.filter((id, i) => ids.indexOf(id) !== i);
    const missing = made.filter((n) => !ids.includes(n.id)).map((n) => n.id);
    const extra = ids.filter((id) => !made.some((n) => n.id === id));
    if (duplicates.length || missing.length || extra.length) {
      fail('following nextCursor with limit=7 does not list every note exactly once', {
        expected: `the 23 notes, each once, in ${Math.ceil(23 / 7)} pages`,
        observed: `repeated: ${duplicates.length}, skipped: ${missing.length}, unexpected: ${extra.length} (of ${seen.length} listed in ${pages} pages)`,
      });
    }
    const outOfOrder = seen.findIndex(
      (n, i) => i > 0 && Date.parse(n.createdAt) > Date.parse((seen[i - 1] as Note).createdAt),
    );
    expectShape(
      outOfOrder,
      -1,
      'index of the first note newer than the one before it (newest first expected)',
    );
    const last = made[made.length - 1] as Note;
    expectShape(seen[0]?.id, last.id, 'first listed note (the newest)');
  },
);

check(
  'GET /notes rejects a bad limit or cursor with 400 VALIDATION_FAILED',
  {
    concurrent: true,
    points: 2,
    hint: `Accept limit as a whole number 1..100 (default 20; parseInt("1.5") is 1: check the whole text) and only cursors you made; anything else is 400 VALIDATION_FAILED with a detail for the field (limit or cursor), never a 500 ${lesson}.`,
  },
  async () => {
    const { app } = sandbox();
    const { token } = await newUser();
    for (const query of [
      'limit=0',
      'limit=101',
      'limit=abc',
      'limit=-5',
      'limit=',
      'limit=1.5',
      'limit=5abc',
      'cursor=',
      'cursor=garbage%21%21',
      "cursor=' OR 1=1 --",
    ]) {
      const field = query.slice(0, query.indexOf('='));
      await inCase(`GET /notes?${query}`, async () =>
        expectValidationFailed(await app.http.get(`/notes?${query}`, { token }), [field]),
      );
    }
    for (const limit of [1, 100]) {
      expectStatus(await app.http.get(`/notes?limit=${limit}`, { token }), 200);
    }
  },
);
