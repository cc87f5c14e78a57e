import {
  check,
  expectErrorBody,
  expectJsonBody,
  expectShape,
  expectRace,
  expectStatus,
  expectValidationFailed,
  inCase,
  is,
  randomText,
  sandbox,
  together,
} from '@sandbox/harness';
import { newCredentials } from './users';

const LOWER = 'abcdefghijklmnopqrstuvwxyz';

const lesson = '(steps/03-signup/README.md)';

check(
  'POST /auth/signup answers 201 with the new user, email trimmed and lowercased',
  {
    concurrent: true,
    points: 3,
    hint: `Insert the user, then answer 201 {"user":{"id","email","emailVerified","createdAt"}} - only those four fields ${lesson}.`,
  },
  async () => {
    const { email, password } = newCredentials('Signup');
    const sent = `  ${email.toUpperCase()}  `;
    const ex = await sandbox().app.http.post('/auth/signup', { json: { email: sent, password } });
    expectStatus(ex, 201);
    expectJsonBody(ex, {
      user: is.exactly({ id: is.uuid, email, emailVerified: false, createdAt: is.isoDate }),
    });
    const createdAt = Date.parse(
      (ex.response.json as { user: { createdAt: string } }).user.createdAt,
    );
    expectShape(
      Math.abs(Date.now() - createdAt),
      is.between(0, 5 * 60_000),
      'createdAt distance from now in ms',
      {
        exchange: ex,
      },
    );
  },
);

check(
  'invalid signups answer 400 VALIDATION_FAILED with one detail per bad field',
  {
    concurrent: true,
    points: 3,
    hint: `Validate the body (e.g. with zod): email a valid address <= 254 chars, password 8-72 chars counted as sent (never trimmed); answer details [{"field","message"}] ${lesson}.`,
  },
  async () => {
    const { app } = sandbox();
    const good = newCredentials('valid');
    const cases: { json: unknown; fields: string[] }[] = [
      {
        json: { email: sandbox().unique('no-at-sign'), password: good.password },
        fields: ['email'],
      },
      { json: { email: good.email, password: randomText(7) }, fields: ['password'] },
      { json: { email: good.email, password: randomText(73) }, fields: ['password'] },
      {
        json: {
          email: `${randomText(250).toLowerCase()}@${sandbox().unique('mail')}.test`,
          password: good.password,
        },
        fields: ['email'],
      },
      { json: { email: 42, password: ['x'] }, fields: ['email', 'password'] },
      { json: {}, fields: ['email', 'password'] },
    ];
    // 254 characters in all, yet every part within its own limit (local part 64, labels 63), so
    // any address validator accepts it: 254 is the length rule's own edge, 255 one past it.
    const atLength = (length: number): string => {
      const local = `${sandbox().unique('edge')}${randomText(64, LOWER)}`
        .slice(0, 64)
        .toLowerCase();
      const labels = [randomText(63, LOWER), randomText(63, LOWER)];
      const rest = length - local.length - 1 - 2 * 64 - '.test'.length;
      return `${local}@${labels.join('.')}.${randomText(rest, LOWER)}.test`;
    };
    cases.push({ json: { email: atLength(255), password: good.password }, fields: ['email'] });
    for (const c of cases) {
      await inCase(`POST /auth/signup ${JSON.stringify(c.json).slice(0, 80)}`, async () =>
        expectValidationFailed(await app.http.post('/auth/signup', { json: c.json }), c.fields),
      );
    }
    // No body at all (no Content-Type): Express 5 leaves req.body undefined, which is no reason for a 500.
    await inCase('POST /auth/signup without a body', async () =>
      expectErrorBody(await app.http.post('/auth/signup'), 400, 'VALIDATION_FAILED'),
    );
    // The edges are accepted: a password is counted as sent, spaces included (never trimmed).
    const edges: [string, { email: string; password: string }][] = [
      ['a password of 72 characters', { email: good.email, password: randomText(72) }],
      [
        'a password of 8 characters with a space at each end',
        { email: newCredentials('eight').email, password: ` ${randomText(6)} ` },
      ],
      [
        'an email of 254 characters',
        { email: atLength(254), password: newCredentials('long').password },
      ],
    ];
    for (const [name, json] of edges) {
      await inCase(`POST /auth/signup with ${name}`, async () =>
        expectStatus(await app.http.post('/auth/signup', { json }), 201),
      );
    }
  },
);

check(
  'signing up twice (other case, extra spaces) answers 409 EMAIL_TAKEN',
  {
    concurrent: true,
    points: 3,
    hint: `Normalise the email (trim + lowercase) before inserting, and turn the unique violation (Postgres code 23505) into 409 EMAIL_TAKEN ${lesson}.`,
  },
  async () => {
    const { app } = sandbox();
    const creds = newCredentials('twice');
    expectStatus(await app.http.post('/auth/signup', { json: creds }), 201);
    const again = await app.http.post('/auth/signup', {
      json: { email: ` ${creds.email.toUpperCase()} `, password: `${creds.password}x` },
    });
    expectErrorBody(again, 409, 'EMAIL_TAKEN');
    const rows = await sandbox().db.query<{ n: string }>(
      'select count(*)::text as n from users where lower(email) = $1',
      [creds.email],
    );
    expectShape(rows[0]?.n, '1', `rows in users for ${creds.email}`);
  },
);

check(
  'concurrent signups for one email create one user: one 201, the others 409 EMAIL_TAKEN (never a 500)',
  {
    concurrent: true,
    points: 3,
    hint: `Checking "does the email exist?" before inserting leaves a window where two requests both see "no": let the unique index decide and turn its violation (23505) into 409 EMAIL_TAKEN ${lesson}.`,
  },
  async () => {
    const { app, db } = sandbox();
    const creds = newCredentials('race');
    const spellings = [
      creds.email,
      creds.email.toUpperCase(),
      ` ${creds.email}`,
      creds.email,
      `${creds.email} `,
    ];
    let next = 0;
    const answers = await together(spellings.length, (gate) =>
      app.http.post('/auth/signup', {
        json: { email: spellings[next++], password: creds.password },
        timeoutMs: 10_000,
        gate,
      }),
    );
    expectRace(answers, { win: 201, lose: 409, code: 'EMAIL_TAKEN' });
    const rows = await db.query<{ n: string }>(
      'select count(*)::text as n from users where lower(email) = $1',
      [creds.email],
    );
    expectShape(rows[0]?.n, '1', `rows in users for ${creds.email}`);
  },
);
