import {
  check,
  expectErrorBody,
  expectSameAnswer,
  fail,
  median,
  sandbox,
  type Exchange,
} from '@sandbox/harness';
import { newCredentials, signUp } from '../../03-signup/checks/users';

const lesson = '(steps/04-login-jwt/README.md)';

check(
  'an unknown email and a wrong password get the same 401 INVALID_CREDENTIALS answer',
  {
    concurrent: true,
    points: 3,
    hint: `In the passport-local verify callback answer done(null, false) in both cases and map it to one 401 INVALID_CREDENTIALS body ${lesson}.`,
  },
  async () => {
    const { app } = sandbox();
    const user = await signUp();
    const wrong = await app.http.post('/auth/login', {
      json: { email: user.email, password: `${user.password}-wrong` },
    });
    const unknown = await app.http.post('/auth/login', { json: newCredentials('nobody') });
    expectErrorBody(wrong, 401, 'INVALID_CREDENTIALS');
    expectErrorBody(unknown, 401, 'INVALID_CREDENTIALS');
    expectSameAnswer(wrong, unknown, 'for an unknown email and for a wrong password');
  },
);

check(
  'an unknown email takes about as long as a wrong password (no timing oracle)',
  {
    points: 2,
    hint: `When the email is unknown, still run bcrypt.compare against a dummy hash of the same cost, so both paths cost the same ${lesson}.`,
    timeoutMs: 20_000,
  },
  async () => {
    const { app } = sandbox();
    const user = await signUp();
    const wrongMs: number[] = [];
    const unknownMs: number[] = [];
    let slowest: Exchange | undefined;
    // 4 attempts per email at most: the step 9 rate limit allows 5.
    for (let i = 0; i < 4; i += 1) {
      const wrong = await app.http.post('/auth/login', {
        json: { email: user.email, password: `nope-${i}-password` },
      });
      const unknown = await app.http.post('/auth/login', { json: newCredentials('ghost') });
      expectErrorBody(wrong, 401, 'INVALID_CREDENTIALS');
      expectErrorBody(unknown, 401, 'INVALID_CREDENTIALS');
      wrongMs.push(wrong.durationMs);
      unknownMs.push(unknown.durationMs);
      slowest = wrong;
    }
    const w = median(wrongMs);
    const u = median(unknownMs);
    const ratio = Math.max(w, u) / Math.max(1, Math.min(w, u));
    // Load only adds time: the fastest attempts show each path's own cost, so a busy machine
    // cannot make two equal paths look apart on both the medians and the minima.
    const fastest = [Math.min(...wrongMs), Math.min(...unknownMs)];
    const fastestRatio = Math.max(...fastest) / Math.max(1, Math.min(...fastest));
    if (ratio >= 3 && Math.abs(w - u) >= 20 && fastestRatio >= 2) {
      fail(
        `login takes ${Math.round(u)} ms for an unknown email but ${Math.round(w)} ms for a wrong password (medians)`,
        {
          exchange: slowest,
          expected:
            'similar times (medians within a factor 3 or 20 ms, fastest attempts within a factor 2): the time must not tell which emails exist',
          observed: `wrong password: ${wrongMs.map(Math.round).join(', ')} ms; unknown email: ${unknownMs.map(Math.round).join(', ')} ms`,
        },
      );
    }
  },
);
