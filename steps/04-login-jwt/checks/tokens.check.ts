import jwt from 'jsonwebtoken';
import {
  check,
  expectErrorBody,
  expectStatus,
  inCase,
  randomText,
  sandbox,
} from '@sandbox/harness';
import { newUser } from './session';

const lesson = '(steps/04-login-jwt/README.md)';

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

check(
  'GET /auth/me refuses missing, malformed, expired, wrongly signed, alg none and non-HS256 tokens with 401 UNAUTHORIZED',
  {
    concurrent: true,
    points: 5,
    hint: `Configure passport-jwt with secretOrKey: JWT_SECRET and algorithms: ["HS256"], and map its failure to 401 UNAUTHORIZED ${lesson}.`,
  },
  async () => {
    const { app, env } = sandbox();
    const secret = env.JWT_SECRET ?? '';
    const user = await newUser();
    expectStatus(await app.http.get('/auth/me', { token: user.token }), 200);
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: user.id, jti: sandbox().unique('jti') };
    const cases: [string, Record<string, string>][] = [
      ['no Authorization header', {}],
      [
        'a malformed token',
        { Authorization: `Bearer ${randomText(12)}.${randomText(20)}.${randomText(8)}` },
      ],
      ['a token without the Bearer scheme', { Authorization: user.token }],
      [
        'an expired token',
        {
          Authorization: `Bearer ${jwt.sign({ ...claims, iat: now - 3600, exp: now - 60 }, secret, { algorithm: 'HS256' })}`,
        },
      ],
      [
        'a token signed with another secret',
        {
          Authorization: `Bearer ${jwt.sign(claims, `${secret}-not-the-secret`, { algorithm: 'HS256', expiresIn: 900 })}`,
        },
      ],
      [
        'an alg "none" token',
        {
          Authorization: `Bearer ${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ ...claims, iat: now, exp: now + 900 })}.`,
        },
      ],
      [
        'a token signed HS512 with the right secret (verification must pin HS256)',
        {
          Authorization: `Bearer ${jwt.sign(claims, secret, { algorithm: 'HS512', expiresIn: 900 })}`,
        },
      ],
    ];
    for (const [name, headers] of cases) {
      await inCase(`with ${name}`, async () =>
        expectErrorBody(await app.http.get('/auth/me', { headers }), 401, 'UNAUTHORIZED'),
      );
    }
  },
);
