import {
  check,
  expectErrorBody,
  expectHeader,
  expectNoHeader,
  expectStatus,
  fail,
  inCase,
  randomText,
  sandbox,
} from '@sandbox/harness';
import { newCredentials } from '../../03-signup/checks/users';

const lesson = '(steps/09-hardening/README.md)';

check(
  'a body over 100 kB answers 413 PAYLOAD_TOO_LARGE',
  {
    concurrent: true,
    points: 2,
    hint: `express.json({ limit: "100kb" }) throws type "entity.too.large": map it to 413 PAYLOAD_TOO_LARGE ${lesson}.`,
  },
  async () => {
    const { app } = sandbox();
    const big = JSON.stringify({
      email: newCredentials('big').email,
      password: randomText(110 * 1024),
    });
    expectErrorBody(
      await app.http.post('/auth/signup', {
        raw: big,
        headers: { 'Content-Type': 'application/json' },
      }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    const fine = JSON.stringify({
      email: sandbox().unique('not-big'),
      password: randomText(60 * 1024),
    });
    const ex = await app.http.post('/auth/signup', {
      raw: fine,
      headers: { 'Content-Type': 'application/json' },
    });
    expectErrorBody(ex, 400, 'VALIDATION_FAILED');
  },
);

check(
  'every response carries security headers and no X-Powered-By',
  {
    concurrent: true,
    points: 2,
    hint: `app.use(helmet()) first; it also removes X-Powered-By ${lesson}.`,
  },
  async () => {
    const { app } = sandbox();
    const answers = [
      await app.http.get('/health'),
      await app.http.get(`/${sandbox().unique('nowhere')}`),
      await app.http.post('/auth/login', {
        raw: '{',
        headers: { 'Content-Type': 'application/json' },
      }),
    ];
    for (const ex of answers) {
      await inCase(`${ex.request.method} ${new URL(ex.request.url).pathname}`, () => {
        expectHeader(ex, 'X-Content-Type-Options', 'nosniff');
        expectNoHeader(ex, 'X-Powered-By');
        const frame = ex.response.headers['x-frame-options'];
        const csp = ex.response.headers['content-security-policy'] ?? '';
        if (!frame && !/frame-ancestors/.test(csp)) {
          fail('neither X-Frame-Options nor a CSP frame-ancestors is sent', {
            exchange: ex,
            expected: 'X-Frame-Options: DENY/SAMEORIGIN or CSP frame-ancestors',
          });
        }
      });
    }
    expectStatus(answers[0] ?? fail('no answer'), 200);
  },
);
