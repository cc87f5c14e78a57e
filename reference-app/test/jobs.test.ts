import { createWorld, startInProcess, type TestWorld } from './support/world';
import { spawnApp, freePort } from './support/spawn';
import { json } from './support/http';
import { uniqueEmail } from './support/users';
import type { RunningApp } from '../src/start';

const linkIn = (text: string): string => {
  const match = /http:\/\/localhost:3000\/auth\/verify\?token=([A-Za-z0-9_-]+)/.exec(text);
  if (!match?.[1]) throw new Error(`no verification link in: ${text}`);
  return match[1];
};

jest.setTimeout(20_000);

describe('email jobs (step 7)', () => {
  let world: TestWorld;
  let app: RunningApp;
  beforeAll(async () => {
    world = await createWorld();
    app = await startInProcess(world);
  });
  afterAll(async () => {
    await app.stop();
    await world.close();
  });

  it('when a user signs up, sends one email whose link verifies them once', async () => {
    const email = uniqueEmail();
    const signup = await json(`${app.url}/auth/signup`, {
      body: { email, password: 'password123' },
    });
    expect(signup.status).toBe(201);
    const message = await world.mail.sink.waitFor((m) => m.to.includes(email), 10_000);
    expect(message.from).toContain('no-reply@sandbox.test');
    const token = linkIn(message.text);

    const verified = await json(`${app.url}/auth/verify?token=${token}`);
    expect(verified.status).toBe(200);
    expect(verified.body.user).toMatchObject({ email, emailVerified: true });
    const again = await json(`${app.url}/auth/verify?token=${token}`);
    expect(again.status).toBe(400);
    expect(again.body).toEqual({ error: expect.objectContaining({ code: 'INVALID_TOKEN' }) });
  });

  it('stores only the sha256 of the token, with a 24 h expiry', async () => {
    const email = uniqueEmail();
    await json(`${app.url}/auth/signup`, { body: { email, password: 'password123' } });
    const token = linkIn((await world.mail.sink.waitFor((m) => m.to.includes(email), 10_000)).text);
    const rows = await app.deps
      .db('email_verification_tokens')
      .select('token_hash', 'expires_at', 'created_at');
    const hashes = rows.map((r: { token_hash: string }) => r.token_hash);
    expect(hashes).not.toContain(token);
    const { createHash } = await import('node:crypto');
    const row = rows.find(
      (r: { token_hash: string }) =>
        r.token_hash === createHash('sha256').update(token).digest('hex'),
    );
    expect(row).toBeDefined();
    const ttl = new Date(row.expires_at).getTime() - new Date(row.created_at).getTime();
    expect(Math.abs(ttl - 24 * 3600 * 1000)).toBeLessThan(60_000);
  });

  it('answers signup fast while SMTP is slow', async () => {
    world.mail.sink.setFaults({ delayMs: 2000 });
    try {
      const email = uniqueEmail();
      const startedAt = Date.now();
      const signup = await json(`${app.url}/auth/signup`, {
        body: { email, password: 'password123' },
      });
      expect(signup.status).toBe(201);
      expect(Date.now() - startedAt).toBeLessThan(1000);
      await world.mail.sink.waitFor((m) => m.to.includes(email), 10_000);
    } finally {
      world.mail.sink.setFaults({ delayMs: 0 });
    }
  });

  it('when SMTP refuses the first 2 attempts, ends in exactly one delivered email', async () => {
    const refusedBefore = world.mail.sink.refusedCount();
    world.mail.sink.setFaults({ refuseNext: 2 });
    const email = uniqueEmail();
    await json(`${app.url}/auth/signup`, { body: { email, password: 'password123' } });
    await world.mail.sink.waitFor((m) => m.to.includes(email), 10_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(world.mail.sink.refusedCount() - refusedBefore).toBe(2);
    expect(world.mail.sink.messages().filter((m) => m.to.includes(email))).toHaveLength(1);
  });

  it('resend-verification answers 202 {} for anyone and mails only an existing unverified user', async () => {
    const unknown = await json(`${app.url}/auth/resend-verification`, {
      body: { email: uniqueEmail('nobody') },
    });
    expect(unknown).toMatchObject({ status: 202, body: {} });
    const email = uniqueEmail();
    await json(`${app.url}/auth/signup`, { body: { email, password: 'password123' } });
    await world.mail.sink.waitFor((m) => m.to.includes(email), 10_000);
    const resent = await json(`${app.url}/auth/resend-verification`, {
      body: { email: ` ${email.toUpperCase()} ` },
    });
    expect(resent).toMatchObject({ status: 202, body: {} });
    await expect(
      (async () => {
        for (;;) {
          if (world.mail.sink.messages().filter((m) => m.to.includes(email)).length === 2)
            return true;
          await new Promise((r) => setTimeout(r, 50));
        }
      })(),
    ).resolves.toBe(true);
    const bad = await json(`${app.url}/auth/resend-verification`, {
      body: { email: 'not-an-email' },
    });
    expect(bad.status).toBe(400);
  });
});

describe('email jobs survive the app being killed', () => {
  it('when the app is SIGKILLed with a job in backoff, the email arrives after a restart', async () => {
    const world = await createWorld({ JOB_BACKOFF_MS: '1500' });
    const port = await freePort();
    try {
      world.mail.sink.setFaults({ refuseNext: 1 });
      const first = await spawnApp(world.env, port);
      const email = uniqueEmail();
      expect(
        (await json(`${first.url}/auth/signup`, { body: { email, password: 'password123' } }))
          .status,
      ).toBe(201);
      while (world.mail.sink.refusedCount() < 1) await new Promise((r) => setTimeout(r, 20));
      // Let the refused attempt be recorded: the job now waits in its backoff, in Redis.
      await new Promise((r) => setTimeout(r, 300));
      first.child.kill('SIGKILL');
      await first.exited;
      expect(world.mail.sink.messages().filter((m) => m.to.includes(email))).toHaveLength(0);

      const second = await spawnApp(world.env, port);
      try {
        await world.mail.sink.waitFor((m) => m.to.includes(email), 15_000);
      } finally {
        second.child.kill('SIGTERM');
        await second.exited;
      }
    } finally {
      await world.close();
    }
  }, 40_000);
});
