import jwt from 'jsonwebtoken';
import { Client } from 'pg';
import { TEST_JWT_SECRET, startTestApp, type TestApp } from './support/app';
import { client } from './support/http';
import { startPrivateRedis, type PrivateRedis } from './support/redis';
import { PASSWORD, logIn, signUp, uniqueEmail, type PublicUserBody } from './support/users';

// Real services, and a machine shared with other suites: starting an app can take seconds.
jest.setTimeout(20_000);

describe('step 4: POST /auth/login and GET /auth/me', () => {
  let app: TestApp;
  let redis: PrivateRedis;
  let user: PublicUserBody;
  beforeAll(async () => {
    // A Redis of its own: login attempts without an email share one rate-limit key per client IP.
    redis = await startPrivateRedis();
    app = await startTestApp({ REDIS_URL: redis.url });
    user = await signUp(app.url);
  });
  afterAll(async () => {
    await app.stop();
    await redis.stop();
  });

  const login = (body: unknown) =>
    client(app.url).post<Record<string, unknown>>('/auth/login', { body });
  const me = (token?: string) => client(app.url, token).get<Record<string, unknown>>('/auth/me');

  it('answers 200 with a Bearer access token valid for 900 s', async () => {
    const res = await login({ email: ` ${user.email.toUpperCase()} `, password: PASSWORD });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      accessToken: expect.any(String),
      tokenType: 'Bearer',
      expiresIn: 900,
    });
  });

  it('signs HS256 tokens with sub, iat, exp = iat + 900 and a unique jti', async () => {
    const [a, b] = [await logIn(app.url, user.email), await logIn(app.url, user.email)];
    const decoded = jwt.verify(a, TEST_JWT_SECRET, { algorithms: ['HS256'], complete: true });
    expect(decoded.header.alg).toBe('HS256');
    const claims = decoded.payload as jwt.JwtPayload;
    expect(claims.sub).toBe(user.id);
    expect(claims.exp).toBe((claims.iat ?? 0) + 900);
    expect(claims.jti).toEqual(expect.any(String));
    expect((jwt.decode(b) as jwt.JwtPayload).jti).not.toBe(claims.jti);
  });

  it('when the password is wrong, answers 401 like an unknown email, in similar time', async () => {
    const victim = await signUp(app.url);
    const timed = async (body: unknown) => {
      const started = performance.now();
      const res = await login(body);
      return { res, ms: performance.now() - started };
    };
    const median = (values: number[]) =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
    const wrong: Awaited<ReturnType<typeof timed>>[] = [];
    const unknown: Awaited<ReturnType<typeof timed>>[] = [];
    for (let i = 0; i < 3; i++) {
      wrong.push(await timed({ email: victim.email, password: 'wrong password' }));
      unknown.push(await timed({ email: uniqueEmail('nobody'), password: 'wrong password' }));
    }
    for (const { res } of [...wrong, ...unknown]) {
      expect(res.status).toBe(401);
      expect(res.text).toBe(wrong[0]?.res.text);
    }
    expect(wrong[0]?.res.body).toEqual({
      error: { code: 'INVALID_CREDENTIALS', message: expect.any(String) },
    });
    // Both pay one bcrypt comparison (tens of ms at cost 10); skipping it would be many times faster.
    const [wrongMs, unknownMs] = [median(wrong.map((t) => t.ms)), median(unknown.map((t) => t.ms))];
    expect(unknownMs).toBeGreaterThan(wrongMs * 0.4);
    expect(wrongMs).toBeGreaterThan(unknownMs * 0.4);
  });

  it.each([
    ['no body', undefined],
    ['no password', { email: 'a@example.test' }],
    ['no email', { password: PASSWORD }],
  ])('answers 400 VALIDATION_FAILED with %s', async (_why, body) => {
    const res = await login(body ?? {});
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
  });

  it('GET /auth/me answers the signup shape for a valid token', async () => {
    const res = await me(await logIn(app.url, user.email));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ user });
  });

  const now = () => Math.floor(Date.now() / 1000);
  const badTokens: [string, () => string][] = [
    ['malformed', () => 'not.a.jwt'],
    [
      'expired',
      () =>
        jwt.sign({ sub: user.id, jti: 'x', iat: now() - 1000, exp: now() - 100 }, TEST_JWT_SECRET),
    ],
    [
      'signed with another secret',
      () =>
        jwt.sign({ sub: user.id, jti: 'x' }, 'another-secret-of-at-least-32-chars!!', {
          expiresIn: 900,
        }),
    ],
    [
      'alg none',
      () => jwt.sign({ sub: user.id, jti: 'x', exp: now() + 900 }, '', { algorithm: 'none' }),
    ],
    [
      'HS512 with the right secret',
      () =>
        jwt.sign({ sub: user.id, jti: 'x' }, TEST_JWT_SECRET, {
          algorithm: 'HS512',
          expiresIn: 900,
        }),
    ],
    ['without exp', () => jwt.sign({ sub: user.id, jti: 'x' }, TEST_JWT_SECRET)],
  ];

  it.each(badTokens)(
    'GET /auth/me answers 401 UNAUTHORIZED for a %s token',
    async (_why, makeToken) => {
      const res = await me(makeToken());
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String) } });
    },
  );

  it('GET /auth/me answers 401 without a token, or with a non-Bearer scheme', async () => {
    expect((await me()).status).toBe(401);
    const basic = await client(app.url).get('/auth/me', {
      headers: { authorization: 'Basic dXNlcjpwYXNz' },
    });
    expect(basic.status).toBe(401);
  });

  it('GET /auth/me answers 401 once the user no longer exists', async () => {
    const gone = await signUp(app.url);
    const token = await logIn(app.url, gone.email);
    const pg = new Client({ connectionString: app.database.url });
    await pg.connect();
    try {
      await pg.query('delete from users where id = $1', [gone.id]);
    } finally {
      await pg.end();
    }
    expect((await me(token)).status).toBe(401);
  });
});
