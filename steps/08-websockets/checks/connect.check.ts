import { check, expectShape, inCase, sandbox } from '@sandbox/harness';
import { newUser } from '../../04-login-jwt/checks/session';
import { openSocket } from './sockets';

const lesson = '(steps/08-websockets/README.md)';

check(
  'the /ws upgrade is refused with 401 without a valid token',
  {
    concurrent: true,
    points: 3,
    hint: `Create the WebSocketServer with noServer: true; in server.on("upgrade") verify the token and on failure write "HTTP/1.1 401 Unauthorized" and destroy the socket ${lesson}.`,
  },
  async () => {
    const { app, env } = sandbox();
    for (const [name, path] of [
      ['no token', '/ws'],
      ['a garbage token', '/ws?token=garbage'],
      [
        'a token signed with another secret',
        `/ws?token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.${Buffer.from(env.JWT_SECRET ?? '')
          .toString('base64url')
          .slice(0, 43)}`,
      ],
    ] as const) {
      await inCase(`upgrade with ${name}`, async () => {
        const result = await app.ws(path, { timeoutMs: 3000 });
        if (result.ok) result.socket.close();
        expectShape(
          result.ok ? 'accepted' : result.status,
          401,
          `status of the refused upgrade to ${path.slice(0, 40)}`,
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
