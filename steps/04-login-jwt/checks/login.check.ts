import jwt from 'jsonwebtoken';
import {
  check,
  expectErrorBody,
  expectJsonBody,
  expectNotLeaked,
  expectShape,
  expectStatus,
  fail,
  inCase,
  is,
  sandbox,
} from '@sandbox/harness';
import { newCredentials, signUp } from '../../03-signup/checks/users';

const lesson = '(steps/04-login-jwt/README.md)';

function accessToken(json: unknown): string {
  return String((json as { accessToken?: unknown } | undefined)?.accessToken);
}

check(
  'POST /auth/login answers 200 with an HS256 access token: sub = user id, exp 900 s after iat, a unique jti',
  {
    concurrent: true,
    points: 4,
    hint: `Sign with jwt.sign({ sub: user.id }, JWT_SECRET, { algorithm: "HS256", expiresIn: 900, jwtid: randomUUID() }) and answer {accessToken, tokenType:"Bearer", expiresIn:900} ${lesson}.`,
  },
  async () => {
    const { app, env } = sandbox();
    const user = await signUp();
    const first = await app.http.post('/auth/login', {
      json: { email: user.email.toUpperCase(), password: user.password },
    });
    expectStatus(first, 200);
    expectJsonBody(first, { accessToken: is.nonEmptyString, tokenType: 'Bearer', expiresIn: 900 });
    const token = accessToken(first.response.json);
    expectShape(
      jwt.decode(token, { complete: true })?.header,
      { alg: 'HS256' },
      'access token header',
      { exchange: first },
    );
    let claims: jwt.JwtPayload;
    try {
      claims = jwt.verify(token, env.JWT_SECRET ?? '', { algorithms: ['HS256'] }) as jwt.JwtPayload;
    } catch (e) {
      fail('the access token does not verify with JWT_SECRET (HS256)', {
        exchange: first,
        observed: String(e),
      });
    }
    const iat = claims.iat ?? 0;
    expectShape(
      claims,
      {
        sub: user.id,
        // NumericDate: seconds since the epoch (Date.now() / 1000), not milliseconds.
        iat: is.satisfying(
          `whole seconds since the epoch, within 5 minutes of now (${Math.floor(Date.now() / 1000)})`,
          (v) => Number.isInteger(v) && Math.abs(Number(v) - Date.now() / 1000) <= 300,
        ),
        exp: iat + 900,
        jti: is.nonEmptyString,
      },
      'access token claims',
      {
        exchange: first,
      },
    );
    const second = await app.http.post('/auth/login', {
      json: { email: user.email, password: user.password },
    });
    expectStatus(second, 200);
    const secondClaims = jwt.decode(accessToken(second.response.json)) as jwt.JwtPayload | null;
    expectShape(
      secondClaims?.jti,
      is.satisfying(`a jti other than ${claims.jti}`, (v) => v !== claims.jti),
      'jti of a second login',
      {
        exchange: second,
      },
    );
  },
);

check(
  'GET /auth/me answers the signed-in user, and no answer contains the password or its hash',
  {
    concurrent: true,
    points: 3,
    hint: `Protect /auth/me with passport.authenticate("jwt", { session: false }) and answer {"user":{id,email,emailVerified,createdAt}}; map rows to that shape ${lesson}.`,
  },
  async () => {
    const { app, db } = sandbox();
    const user = await signUp();
    const login = await app.http.post('/auth/login', {
      json: { email: user.email, password: user.password },
    });
    expectStatus(login, 200);
    const me = await app.http.get('/auth/me', { token: accessToken(login.response.json) });
    expectStatus(me, 200);
    expectJsonBody(me, {
      user: is.exactly({
        id: user.id,
        email: user.email,
        emailVerified: false,
        createdAt: is.isoDate,
      }),
    });
    const [row] = await db.query<{ password_hash: string }>(
      'select password_hash from users where id = $1',
      [user.id],
    );
    for (const ex of [login, me]) {
      expectNotLeaked(ex, user.password, 'password');
      if (row?.password_hash) expectNotLeaked(ex, row.password_hash, 'password hash');
    }
  },
);

check(
  'login with missing or non-string fields answers 400 VALIDATION_FAILED',
  {
    concurrent: true,
    points: 1,
    hint: `Validate the login body before passport-local runs (email and password non-empty strings), or map its "Missing credentials" to 400 ${lesson}.`,
  },
  async () => {
    const { app } = sandbox();
    expectErrorBody(await app.http.post('/auth/login', { json: {} }), 400, 'VALIDATION_FAILED');
    // No body at all (no Content-Type): req.body is undefined in Express 5.
    expectErrorBody(await app.http.post('/auth/login'), 400, 'VALIDATION_FAILED');
    expectErrorBody(
      await app.http.post('/auth/login', { json: { email: newCredentials('someone').email } }),
      400,
      'VALIDATION_FAILED',
    );
    // No empty email here: with the step 9 rate limit, the bodies without an email share one budget.
    for (const json of [
      { email: newCredentials('n').email, password: 12345678 },
      { email: newCredentials('empty').email, password: '' },
    ]) {
      await inCase(`POST /auth/login ${JSON.stringify(json).slice(0, 80)}`, async () =>
        expectErrorBody(await app.http.post('/auth/login', { json }), 400, 'VALIDATION_FAILED'),
      );
    }
  },
);
