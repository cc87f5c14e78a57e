import bcrypt from 'bcrypt';
import { Client } from 'pg';
import { startTestApp, type TestApp } from './support/app';
import { client } from './support/http';
import { PASSWORD, uniqueEmail, type PublicUserBody } from './support/users';

// Real services, and a machine shared with other suites: starting an app can take seconds.
jest.setTimeout(20_000);

interface ErrorBody {
  error: { code: string; message: string; details?: { field: string; message: string }[] };
}

describe('step 3: POST /auth/signup', () => {
  let app: TestApp;
  let pg: Client;
  beforeAll(async () => {
    app = await startTestApp();
    pg = new Client({ connectionString: app.database.url });
    await pg.connect();
  });
  afterAll(async () => {
    await pg.end();
    await app.stop();
  });

  const signup = (body: unknown) =>
    client(app.url).post<{ user: PublicUserBody } & ErrorBody>('/auth/signup', { body });

  it('creates the user with a trimmed, lowercased email and answers 201 with the public shape', async () => {
    const email = uniqueEmail('New');
    const res = await signup({ email: `  ${email.toUpperCase()} `, password: PASSWORD });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      user: {
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        email: email.toLowerCase(),
        emailVerified: false,
        createdAt: expect.any(String),
      },
    });
    expect(new Date(res.body.user.createdAt).toISOString()).toBe(res.body.user.createdAt);
  });

  it('stores only a bcrypt hash of cost >= 10 that matches the password, and never returns it', async () => {
    const email = uniqueEmail();
    const res = await signup({ email, password: PASSWORD });
    const { rows } = await pg.query<Record<string, unknown>>('select * from users where id = $1', [
      res.body.user.id,
    ]);
    const row = rows[0] ?? {};
    const hash = String(row.password_hash);
    expect(hash).toMatch(/^\$2[aby]\$(1[0-9]|[2-3][0-9])\$/);
    expect(await bcrypt.compare(PASSWORD, hash)).toBe(true);
    expect(JSON.stringify(row)).not.toContain(PASSWORD);
    expect(res.text).not.toContain(hash);
    expect(res.text).not.toContain(PASSWORD);
  });

  it.each([
    ['a bad email', { email: 'not-an-email', password: PASSWORD }, ['email']],
    [
      'an email over 254 characters',
      { email: `${'a'.repeat(250)}@example.test`, password: PASSWORD },
      ['email'],
    ],
    ['a password under 8 characters', { email: uniqueEmail(), password: 'short' }, ['password']],
    [
      'a password over 72 characters',
      { email: uniqueEmail(), password: 'p'.repeat(73) },
      ['password'],
    ],
    ['both fields missing', {}, ['email', 'password']],
    ['fields of the wrong type', { email: 42, password: ['x'] }, ['email', 'password']],
  ])(
    'refuses %s with 400 VALIDATION_FAILED and one detail per bad field',
    async (_why, body, fields) => {
      const res = await signup(body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(res.body.error.details?.map((d) => d.field)).toEqual(fields);
      for (const detail of res.body.error.details ?? [])
        expect(detail.message).toEqual(expect.any(String));
    },
  );

  it.each([
    ['an array', []],
    ['a string', 'email'],
    ['null', null],
  ])('refuses a JSON body that is %s with 400, never 500', async (_why, body) => {
    const res = await signup(body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('answers 409 EMAIL_TAKEN for the same email in another case or with whitespace', async () => {
    const email = uniqueEmail();
    expect((await signup({ email, password: PASSWORD })).status).toBe(201);
    for (const variant of [email, email.toUpperCase(), `\t${email} `]) {
      const res = await signup({ email: variant, password: PASSWORD });
      expect(res.status).toBe(409);
      expect(res.body).toEqual({ error: { code: 'EMAIL_TAKEN', message: expect.any(String) } });
    }
  });

  it('lets exactly one of two racing signups with the same email win', async () => {
    const email = uniqueEmail('race');
    const results = await Promise.all([
      signup({ email, password: PASSWORD }),
      signup({ email: email.toUpperCase(), password: PASSWORD }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
  });
});
