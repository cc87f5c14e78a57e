import {
  check,
  expectErrorBody,
  expectStatus,
  inCase,
  sandbox,
  type AppInstance,
} from '@sandbox/harness';
import { signUp, type SignedUp } from '../../03-signup/checks/users';

check(
  'a second app instance honours logins, logouts and login attempts made through the first',
  {
    concurrent: true,
    points: 4,
    hint: 'Keep what every instance must agree on out of process memory: refresh tokens, revoked access tokens and login attempt counters in Postgres or Redis, never in a Map or a memory store (steps/09-hardening/README.md).',
    timeoutMs: 30_000,
  },
  async () => {
    const { app } = sandbox();
    // The users are made through the primary while the second instance starts.
    const [second, users] = await Promise.all([
      sandbox().startInstance(),
      Promise.all([signUp(), signUp()]),
    ]);
    try {
      await throughBoth(app, second, users);
    } finally {
      await second.stop();
    }
  },
);

async function throughBoth(
  app: AppInstance,
  second: AppInstance,
  [leaving, guessed]: [SignedUp, SignedUp],
): Promise<void> {
  const login = await app.http.post('/auth/login', {
    json: { email: leaving.email, password: leaving.password },
  });
  expectStatus(login, 200);
  const { accessToken: token, refreshToken } = login.response.json as {
    accessToken?: string;
    refreshToken?: string;
  };
  await inCase(
    'login through the first instance, then POST /auth/refresh on the second',
    async () => {
      expectStatus(await second.http.get('/auth/me', { token: String(token) }), 200);
      expectStatus(await second.http.post('/auth/refresh', { json: { refreshToken } }), 200);
    },
  );
  await inCase('logout through the first instance, then GET /auth/me on the second', async () => {
    expectStatus(await app.http.post('/auth/logout', { token: String(token) }), 204);
    expectErrorBody(
      await second.http.get('/auth/me', { token: String(token) }),
      401,
      'UNAUTHORIZED',
    );
  });
  await inCase(
    '3 wrong passwords through the first instance and 2 through the second, then a 6th attempt',
    async () => {
      for (const [i, instance] of [app, app, app, second, second].entries()) {
        expectErrorBody(
          await instance.http.post('/auth/login', {
            json: { email: guessed.email, password: `wrong-${i}-${sandbox().unique('pw')}` },
          }),
          401,
          'INVALID_CREDENTIALS',
        );
      }
      expectErrorBody(
        await second.http.post('/auth/login', {
          json: { email: guessed.email, password: guessed.password },
        }),
        429,
        'RATE_LIMITED',
      );
    },
  );
}
