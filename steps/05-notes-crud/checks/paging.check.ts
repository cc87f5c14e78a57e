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
  together,
} from '@sandbox/harness';
import { newUser } from '../../04-login-jwt/checks/session';
import { createNote, noteShape, type Note } from './notes';

const lesson = '(steps/05-notes-crud/README.md)';

interface Page {
  notes: Note[];
  nextCursor: string | null;
}

/**
 * Follows nextCursor from the first page of `limit` until it is null, failing past `maxPages`;
 * `afterFirstPage` runs once, between the first page and the second.
 */
async function followCursor(
  token: string,
  limit: number,
  maxPages: number,
  expectedPages: string,
  afterFirstPage: () => Promise<unknown> = async () => undefined,
): Promise<{ seen: Note[]; pages: number }> {
  const seen: Note[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const path = `/notes?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const ex = await sandbox().app.http.get(path, { token });
    expectStatus(ex, 200);
    expectJsonBody(ex, { notes: is.array, nextCursor: is.nullable(is.string) });
    const page = ex.response.json as Page;
    seen.push(...page.notes);
    cursor = page.nextCursor;
    pages += 1;
    if (pages === 1) await afterFirstPage();
    if (pages > maxPages)
      fail('nextCursor never became null', { exchange: ex, expected: expectedPages });
  } while (cursor);
  return { seen, pages };
}

/** How `seen` (a listing followed to its end) differs from `made`, each of which it should list once. */
function tally(
  seen: Note[],
  made: Note[],
): { repeated: string[]; skipped: Note[]; extra: string[] } {
  const ids = seen.map((n) => n.id);
  return {
    repeated: ids.filter((id, i) => ids.indexOf(id) !== i),
    skipped: made.filter((n) => !ids.includes(n.id)),
    extra: ids.filter((id) => !made.some((n) => n.id === id)),
  };
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

    // a note added while paging is newer than every cursor: it must neither appear nor shift the pages
    const { seen, pages } = await followCursor(
      token,
      7,
      10,
      '4 pages of at most 7 for 23 notes',
      () => createNote(token, { title: sandbox().unique('added-while-paging') }),
    );

    const { repeated, skipped, extra } = tally(seen, made);
    if (repeated.length || skipped.length || extra.length) {
      fail('following nextCursor with limit=7 does not list every note exactly once', {
        expected: `the 23 notes, each once, in ${Math.ceil(23 / 7)} pages`,
        observed: `repeated: ${repeated.length}, skipped: ${skipped.length}, unexpected: ${extra.length} (of ${seen.length} listed in ${pages} pages)`,
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

/** Notes made apart are never in one millisecond; made together, some are: ties a cursor must keep apart. */
const SENT_TOGETHER = 8;
const ROUNDS = 4;

check(
  'notes made in the same millisecond are each listed once when paging one note at a time',
  {
    concurrent: true,
    points: 2,
    hint: `Page by the pair: WHERE (created_at, id) < (the cursor's created_at, the cursor's id), ordered by created_at desc, id desc, and keep the cursor's time exact: a JS Date holds milliseconds only, so either give created_at millisecond precision (timestamp(3)) or carry it in the cursor as Postgres's own text (created_at::text) ${lesson}.`,
  },
  async () => {
    const { app } = sandbox();
    const { token } = await newUser();
    const made: Note[] = [];
    const sameMillisecond = (): Note[] =>
      made.filter((n) =>
        made.some((o) => o !== n && Date.parse(o.createdAt) === Date.parse(n.createdAt)),
      );
    // Rounds of notes sent at once, until at least two share a millisecond (a loaded machine may
    // spread one round out). Without such a pair the paging below is still checked, on distinct times.
    for (let round = 0; round < ROUNDS && sameMillisecond().length === 0; round += 1) {
      const answers = await together(SENT_TOGETHER, (gate) =>
        app.http.post('/notes', {
          token,
          json: { title: sandbox().unique('same-moment') },
          timeoutMs: 10_000,
          gate,
        }),
      );
      for (const ex of answers) {
        expectStatus(ex, 201);
        made.push((ex.response.json as { note: Note }).note);
      }
    }

    const { seen, pages } = await followCursor(
      token,
      1,
      made.length + 2,
      `${made.length} pages of one note for ${made.length} notes`,
    );

    const { repeated, skipped } = tally(seen, made);
    if (repeated.length || skipped.length || seen.length !== made.length) {
      const tied = new Set(sameMillisecond().map((n) => n.id));
      const skippedTied = skipped.filter((n) => tied.has(n.id)).length;
      fail('following nextCursor with limit=1 does not list every note exactly once', {
        expected: `the ${made.length} notes (${tied.size} of them sharing a millisecond of createdAt with another), each once, in ${made.length} pages`,
        observed: `repeated: ${repeated.length}, skipped: ${skipped.length} (${skippedTied} of them made in the same millisecond as another note), ${seen.length} listed in ${pages} pages; skipped createdAt: ${skipped
          .slice(0, 5)
          .map((n) => n.createdAt)
          .join(', ')}`,
      });
    }
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
