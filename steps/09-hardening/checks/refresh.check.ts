import jwt from 'jsonwebtoken';
import {
  check,
  expectErrorBody,
  expectJsonBody,
  expectRace,
  expectShape,
  expectStatus,
  fail,
  inCase,
  is,
  sandbox,
  type Exchange,
  together,
} from '@sandbox/harness';
import { signUp } from '../../03-signup/checks/users';

const lesson = '(steps/09-hardening/README.md)';

interface Tokens {
  accessToken: string;
  refreshToken: string;
}

function tokens(ex: Exchange): Tokens {
  expectJsonBody(ex, { accessToken: is.nonEmptyString, refreshToken: is.nonEmptyString });
  return ex.response.json as Tokens;
}

/** A refreshed access token is an access token like the login's: HS256, sub, exp 900 s after iat, a new jti. */
function expectAccessToken(token: string, userId: string, previous: string, ex: Exchange): void {
  let claims: jwt.JwtPayload;
  try {
    claims = jwt.verify(token, sandbox().env.JWT_SECRET ?? '', {
      algorithms: ['HS256'],
    }) as jwt.JwtPayload;
  } catch (e) {
    fail('the refreshed access token does not verify with JWT_SECRET (HS256)', {
      exchange: ex,
      observed: String(e),
    });
  }
  const before = jwt.decode(previous) as jwt.JwtPayload | null;
  expectShape(
    claims,
    {
      sub: userId,
      iat: is.integer,
      exp: (claims.iat ?? 0) + 900,
      jti: is.satisfying(
        `a jti other than the login's (${String(before?.jti)})`,
        (v) => typeof v === 'string' && v.length > 0 && v !== before?.jti,
      ),
    },
    'refreshed access token claims',
    { exchange: ex },
  );
}

async function login(email: string, password: string): Promise<Tokens> {
  const ex = await sandbox().app.http.post('/auth/login', { json: { email, password } });
  expectStatus(ex, 200);
  return tokens(ex);
}

check(
  'POST /auth/refresh rotates the refresh token; reusing a spent one answers 401 and revokes its whole family',
  {
    concurrent: true,
    points: 5,
    hint: `Store refresh tokens (hashed) with a family id; on refresh mark the old one used and issue a new one in the same family; if a used one comes back, revoke every token of the family ${lesson}.`,
  },
  async () => {
    const { app } = sandbox();
    const user = await signUp();
    const first = await login(user.email, user.password);
    const rotated = await app.http.post('/auth/refresh', {
      json: { refreshToken: first.refreshToken },
    });
    expectStatus(rotated, 200);
    expectJsonBody(rotated, {
      accessToken: is.nonEmptyString,
      tokenType: 'Bearer',
      expiresIn: 900,
      refreshToken: is.nonEmptyString,
    });
    const second = tokens(rotated);
    expectAccessToken(second.accessToken, user.id, first.accessToken, rotated);
    expectShape(
      second.refreshToken !== first.refreshToken,
      true,
      'the new refresh token differs from the old one',
      { exchange: rotated },
    );
    expectStatus(await app.http.get('/auth/me', { token: second.accessToken }), 200);
    const reuse = await app.http.post('/auth/refresh', {
      json: { refreshToken: first.refreshToken },
    });
    expectErrorBody(reuse, 401, 'INVALID_REFRESH_TOKEN');
    const afterReuse = await app.http.post('/auth/refresh', {
      json: { refreshToken: second.refreshToken },
    });
    expectErrorBody(afterReuse, 401, 'INVALID_REFRESH_TOKEN');
    expectErrorBody(
      await app.http.post('/auth/refresh', { json: { refreshToken: sandbox().unique('forged') } }),
      401,
      'INVALID_REFRESH_TOKEN',
    );
    const otherLogin = await login(user.email, user.password);
    expectStatus(
      await app.http.post('/auth/refresh', { json: { refreshToken: otherLogin.refreshToken } }),
      200,
    );
  },
);

check(
  'POST /auth/logout answers 204; that access token and its refresh tokens are refused afterwards',
  {
    concurrent: true,
    points: 4,
    hint: `On logout store the token's jti as revoked until its exp (e.g. a Redis key with that TTL), check it in the JWT strategy, and revoke the login's whole refresh family (the tokens rotated from it too) ${lesson}.`,
  },
  async () => {
    const { app } = sandbox();
    const user = await signUp();
    const session = await login(user.email, user.password);
    const other = await login(user.email, user.password);
    const out = await app.http.post('/auth/logout', { token: session.accessToken });
    expectStatus(out, 204);
    expectErrorBody(
      await app.http.get('/auth/me', { token: session.accessToken }),
      401,
      'UNAUTHORIZED',
    );
    // Every route that needs a token, not only the one that shows the user.
    expectErrorBody(
      await app.http.get('/notes', { token: session.accessToken }),
      401,
      'UNAUTHORIZED',
    );
    expectErrorBody(
      await app.http.post('/auth/refresh', { json: { refreshToken: session.refreshToken } }),
      401,
      'INVALID_REFRESH_TOKEN',
    );
    expectStatus(await app.http.get('/auth/me', { token: other.accessToken }), 200);
    expectErrorBody(await app.http.post('/auth/logout'), 401, 'UNAUTHORIZED');
    // The login's refresh tokens are all of them, the ones that rotation issued later included.
    await inCase(
      "login, refresh, then logout with the login's first access token: the newest refresh token",
      async () => {
        const third = await login(user.email, user.password);
        const rotated = await app.http.post('/auth/refresh', {
          json: { refreshToken: third.refreshToken },
        });
        expectStatus(rotated, 200);
        const newest = tokens(rotated);
        const bye = await app.http.post('/auth/logout', { token: third.accessToken });
        // An app may refuse an access token once it was refreshed: then there is nothing to log out.
        if (bye.response.status === 401) return;
        expectStatus(bye, 204);
        expectErrorBody(
          await app.http.post('/auth/refresh', { json: { refreshToken: newest.refreshToken } }),
          401,
          'INVALID_REFRESH_TOKEN',
        );
      },
    );
  },
);

check(
  'concurrent refreshes with one refresh token have at most one winner; the others answer 401 INVALID_REFRESH_TOKEN',
  {
    concurrent: true,
    points: 3,
    hint: `Spend the token in one atomic statement (UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1 AND used_at IS NULL RETURNING ...): only the request that updated the row may issue new tokens ${lesson}.`,
  },
  async () => {
    const { app } = sandbox();
    const user = await signUp();
    // Two rounds, each with a refresh token of its own login: the first also gives the app's
    // database pool the connections eight requests ask for, so the second's requests meet no queue
    // that would put them one after another.
    for (let round = 0; round < 2; round++) {
      const session = await login(user.email, user.password);
      // Eight that start together (last bytes held back until all are sent): a read-then-write
      // spend lets several through, however loaded the machine.
      const answers = await together(8, (gate) =>
        app.http.post('/auth/refresh', {
          json: { refreshToken: session.refreshToken },
          timeoutMs: 10_000,
          gate,
        }),
      );
      expectRace(answers, { win: 200, lose: 401, code: 'INVALID_REFRESH_TOKEN', atMost: true });
    }
  },
);

check(
  'after logout the access token is refused on the /ws upgrade too (401)',
  {
    concurrent: true,
    points: 2,
    hint: `Check the revocation list in the upgrade handler as well as in the HTTP strategy: one "is this access token usable?" function for both ${lesson}.`,
  },
  async () => {
    const { app } = sandbox();
    const user = await signUp();
    const session = await login(user.email, user.password);
    const before = await app.ws(`/ws?token=${encodeURIComponent(session.accessToken)}`, {
      timeoutMs: 3000,
    });
    if (before.ok) before.socket.close();
    expectShape(
      before.ok ? 'accepted' : before.status,
      'accepted',
      'the /ws upgrade before logout',
    );
    expectStatus(await app.http.post('/auth/logout', { token: session.accessToken }), 204);
    const after = await app.ws(`/ws?token=${encodeURIComponent(session.accessToken)}`, {
      timeoutMs: 3000,
    });
    if (after.ok) after.socket.close();
    expectShape(after.ok ? 'accepted' : after.status, 401, 'the /ws upgrade after logout');
  },
);
