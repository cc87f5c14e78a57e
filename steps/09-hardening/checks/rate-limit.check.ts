import {
  check,
  expectErrorBody,
  expectHeader,
  expectRace,
  expectStatus,
  inCase,
  is,
  sandbox,
  together,
} from '@sandbox/harness';
import { signUp } from '../../03-signup/checks/users';

check(
  'the 6th login attempt within 60 s for one email answers 429 RATE_LIMITED with Retry-After',
  {
    points: 3,
    hint: 'Count every attempt per email (trimmed, lowercased) and IP in Redis (rate-limiter-flexible RateLimiterRedis, points 5, duration 60) before checking the password, successful ones included (no reset on success); when exhausted answer 429 with Retry-After in seconds (steps/09-hardening/README.md).',
  },
  async () => {
    const { app } = sandbox();
    const [user, other, lucky] = await Promise.all([signUp(), signUp(), signUp()]);
    // One email however it is spelt (it is compared case-insensitively): the count is the same.
    for (let i = 0; i < 5; i += 1) {
      expectErrorBody(
        await app.http.post('/auth/login', {
          json: {
            email: i % 2 ? user.email.toUpperCase() : user.email,
            password: `wrong-${i}-password`,
          },
        }),
        401,
        'INVALID_CREDENTIALS',
      );
    }
    const limited = await app.http.post('/auth/login', {
      json: { email: user.email, password: user.password },
    });
    expectErrorBody(limited, 429, 'RATE_LIMITED');
    expectHeader(
      limited,
      'Retry-After',
      is.satisfying(
        'whole seconds between 1 and 60',
        (v) => /^\d+$/.test(String(v)) && Number(v) >= 1 && Number(v) <= 60,
      ),
    );
    expectStatus(
      await app.http.post('/auth/login', {
        json: { email: other.email, password: other.password },
      }),
      200,
    );
    // A successful login is an attempt too, and does not wipe the count: 4 wrong, 1 right, then a 6th.
    await inCase('4 wrong passwords, the right one (200), then a 6th attempt', async () => {
      for (let i = 0; i < 4; i += 1) {
        expectErrorBody(
          await app.http.post('/auth/login', {
            json: { email: lucky.email, password: `wrong-${i}-password` },
          }),
          401,
          'INVALID_CREDENTIALS',
        );
      }
      const right = { json: { email: lucky.email, password: lucky.password } };
      expectStatus(await app.http.post('/auth/login', right), 200);
      expectErrorBody(await app.http.post('/auth/login', right), 429, 'RATE_LIMITED');
    });
  },
);

check(
  'concurrent login attempts count too: of 10 at once for one email, at most 5 get past the limit',
  {
    points: 2,
    hint: 'Count and compare in one atomic step (Redis INCR then EXPIRE, or rate-limiter-flexible, which does), never a GET followed by a SET: requests that arrive together all read the same count (steps/09-hardening/README.md).',
    timeoutMs: 20_000,
  },
  async () => {
    const { app } = sandbox();
    const user = await signUp();
    let i = 0;
    const answers = await together(10, (gate) =>
      app.http.post('/auth/login', {
        json: { email: user.email, password: `wrong-${i++}-${sandbox().unique('pw')}` },
        timeoutMs: 15_000,
        gate,
      }),
    );
    // The winners answer 401 INVALID_CREDENTIALS (wrong passwords), the refused 429.
    expectRace(answers, { win: 401, lose: 429, code: 'RATE_LIMITED', winners: 5, atMost: true });
  },
);
