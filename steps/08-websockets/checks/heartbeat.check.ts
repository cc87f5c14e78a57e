import { check, fail, sandbox } from '@sandbox/harness';
import { newUser } from '../../04-login-jwt/checks/session';
import { openSocket } from './sockets';

check(
  'heartbeat terminates a peer that stops answering pings, and keeps a live one',
  {
    // Load beside it can only delay a close or a pong (a failure, re-run alone), never pass a broken heartbeat.
    concurrent: true,
    points: 3,
    hint: 'Every WS_HEARTBEAT_MS ping each socket; if it has not ponged since the previous ping, terminate() it (steps/08-websockets/README.md).',
    timeoutMs: 15_000,
  },
  async () => {
    const { app, env } = sandbox();
    const beat = Number(env.WS_HEARTBEAT_MS ?? 30_000);
    const user = await newUser();
    const dead = await openSocket(app, user.token, false);
    const live = await openSocket(app, user.token, true);
    const limit = beat * 3 + 1000;
    try {
      await dead.waitForClose(limit);
    } catch {
      fail(
        `a peer that never answers pings was still connected after ${limit} ms (WS_HEARTBEAT_MS=${beat})`,
        {
          expected: 'the server terminates it after about two heartbeat intervals',
        },
      );
    }
    if (live.closed) {
      fail('a peer that answers every ping was disconnected too', {
        expected: 'live peers stay connected',
      });
    }
    live.close();
  },
);
