import jwt from 'jsonwebtoken';
import { check, expectShape, inCase, sandbox } from '@sandbox/harness';
import { newUser } from '../../04-login-jwt/checks/session';
import { openSocket } from './sockets';

const lesson = '(steps/08-websockets/README.md)';

check(
  'the /ws upgrade is refused with 401 without a valid token',
  {
    concurrent: true,
    points: 3,
    hint: `Create the WebSocketServer with noServer: true; in server.on("upgrade") verify the token (signature, algorithms: ["HS256"] only, expiry) and on failure write "HTTP/1.1 401 Unauthorized" and destroy the socket ${lesson}.`,
  },
  async () => {
    const { app, env } = sandbox();
    const secret = env.JWT_SECRET ?? '';
    const now = Math.floor(Date.now() / 1000);
    const user = await newUser();
    const claims = { sub: user.id, jti: sandbox().unique('jti') };
    const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
    for (const [name, path] of [
      ['no token', '/ws'],
      ['a garbage token', '/ws?token=garbage'],
      [
        'a token signed with another secret',
        `/ws?token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.${Buffer.from(env.JWT_SECRET ?? '')
          .toString('base64url')
          .slice(0, 43)}`,
      ],
      [
        'an expired token',
        `/ws?token=${jwt.sign({ ...claims, iat: now - 3600, exp: now - 60 }, secret, { algorithm: 'HS256' })}`,
      ],
      [
        'an alg "none" token',
        `/ws?token=${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, iat: now, exp: now + 900 })}.`,
      ],
      [
        'a token signed HS512 with the right secret (verification must pin HS256)',
        `/ws?token=${jwt.sign(claims, secret, { algorithm: 'HS512', expiresIn: 900 })}`,
      ],
    ] as const) {
      await inCase(`upgrade with ${name}`, async () => {
        const result = await app.ws(path, { timeoutMs: 3000 });
        if (result.ok) result.socket.close();
        expectShape(
          result.ok ? 'accepted' : result.status,
          401,
          `status of the refused upgrade with ${name}`,
        );
      });
    }
  },
);

check(
  'a socket with a valid token receives {"type":"ready"}',
  {
    concurrent: true,
    points: 2,
    hint: `Right after the connection is set up, ws.send(JSON.stringify({ type: "ready" })) ${lesson}.`,
  },
  async () => {
    const { app } = sandbox();
    const user = await newUser();
    const socket = await openSocket(app, user.token);
    socket.close();
  },
);
