import type { RunningApp } from '../src/start';
import { createWorld, startInProcess, type TestWorld } from './support/world';
import { freePort, spawnApp } from './support/spawn';
import { json } from './support/http';
import { signUpAndLogIn, uniqueEmail } from './support/users';

jest.setTimeout(30_000);

describe('hardening (step 9)', () => {
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

  it('allows 5 login attempts per email and IP per minute, then answers 429 RATE_LIMITED with Retry-After', async () => {
    const body = { email: uniqueEmail(), password: 'wrong-password' };
    for (let i = 0; i < 5; i++)
      expect((await json(`${app.url}/auth/login`, { body })).status).toBe(401);
    const limited = await json(`${app.url}/auth/login`, { body });
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({ error: expect.objectContaining({ code: 'RATE_LIMITED' }) });
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });

  it('rotates refresh tokens, and a reused one revokes its whole family', async () => {
    const session = await signUpAndLogIn(app.url);
    const rotated = await json(`${app.url}/auth/refresh`, {
      body: { refreshToken: session.refreshToken },
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
    const newest = String(rotated.body.refreshToken);
    expect(newest).not.toBe(session.refreshToken);

    const reused = await json(`${app.url}/auth/refresh`, {
      body: { refreshToken: session.refreshToken },
    });
    expect(reused.status).toBe(401);
    expect(reused.body).toEqual({
      error: expect.objectContaining({ code: 'INVALID_REFRESH_TOKEN' }),
    });
    const afterReuse = await json(`${app.url}/auth/refresh`, { body: { refreshToken: newest } });
    expect(afterReuse.status).toBe(401);
  });

  it('stores refresh tokens hashed', async () => {
    const session = await signUpAndLogIn(app.url);
    const found = await app.deps
      .db('refresh_tokens')
      .where({ token_hash: session.refreshToken })
      .first();
    expect(found).toBeUndefined();
  });

  it('logout refuses the access token from then on and revokes the login refresh tokens', async () => {
    const session = await signUpAndLogIn(app.url);
    expect((await json(`${app.url}/auth/me`, { token: session.accessToken })).status).toBe(200);
    const logout = await json(`${app.url}/auth/logout`, {
      method: 'POST',
      token: session.accessToken,
    });
    expect(logout.status).toBe(204);
    const me = await json(`${app.url}/auth/me`, { token: session.accessToken });
    expect(me.status).toBe(401);
    expect(me.body).toEqual({ error: expect.objectContaining({ code: 'UNAUTHORIZED' }) });
    expect((await json(`${app.url}/notes`, { token: session.accessToken })).status).toBe(401);
    expect(
      (await json(`${app.url}/auth/refresh`, { body: { refreshToken: session.refreshToken } }))
        .status,
    ).toBe(401);
  });

  it('records a logout in Postgres (the truth) and in Redis (the fast copy), until the token expires', async () => {
    const session = await signUpAndLogIn(app.url);
    await json(`${app.url}/auth/logout`, { method: 'POST', token: session.accessToken });
    const { default: jwt } = await import('jsonwebtoken');
    const claims = jwt.decode(session.accessToken, { json: true });
    const row = await app.deps.db('revoked_access_tokens').where({ jti: claims?.jti }).first();
    expect(row).toBeDefined();
    const ttl = await app.deps.redis.pttl(`auth:revoked:${String(claims?.jti)}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(900_000);
  });

  it('answers 413 PAYLOAD_TOO_LARGE to a body over 100 kB', async () => {
    const big = await json(`${app.url}/auth/signup`, {
      body: { email: uniqueEmail(), password: 'x'.repeat(110 * 1024) },
    });
    expect(big.status).toBe(413);
    expect(big.body).toEqual({ error: expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }) });
  });

  it('sends security headers and no X-Powered-By', async () => {
    const res = await fetch(`${app.url}/health`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(
      res.headers.get('x-frame-options') ?? res.headers.get('content-security-policy'),
    ).toBeTruthy();
    expect(res.headers.get('x-powered-by')).toBeNull();
  });
});

describe('SIGTERM under load', () => {
  it('answers every request sent before the signal, exits 0, and keeps queued jobs for the next start', async () => {
    const world = await createWorld();
    const port = await freePort();
    try {
      const child = await spawnApp(world.env, port);
      const session = await signUpAndLogIn(child.url);
      const note = await json(`${child.url}/notes`, {
        body: { title: 'load' },
        token: session.accessToken,
      });
      const id = String((note.body.note as { id: string }).id);
      // SMTP refuses so the next signup's job is still queued when the app stops.
      world.mail.sink.setFaults({ refuseNext: 1000 });
      const pendingEmail = uniqueEmail('pending');
      expect(
        (
          await json(`${child.url}/auth/signup`, {
            body: { email: pendingEmail, password: 'password123' },
          })
        ).status,
      ).toBe(201);

      let signalled = false;
      const statuses: number[] = [];
      const worker = async (): Promise<void> => {
        for (let i = 0; i < 200 && !signalled; i++) {
          const status = await fetch(`${child.url}/notes/${id}`, {
            headers: { authorization: `Bearer ${session.accessToken}` },
          }).then(
            (r) => r.arrayBuffer().then(() => r.status),
            () => -1,
          );
          statuses.push(status);
        }
      };
      const load = Promise.all(Array.from({ length: 16 }, worker));
      await new Promise((r) => setTimeout(r, 300));
      child.child.kill('SIGTERM');
      signalled = true;
      await load;
      expect(await child.exited).toBe(0);
      expect(statuses.length).toBeGreaterThan(16);
      expect(statuses.filter((s) => s !== 200)).toEqual([]);

      world.mail.sink.setFaults({ refuseNext: 0 });
      const restarted = await spawnApp(world.env, port);
      try {
        await world.mail.sink.waitFor((m) => m.to.includes(pendingEmail), 15_000);
      } finally {
        restarted.child.kill('SIGTERM');
        await restarted.exited;
      }
    } finally {
      await world.close();
    }
  });
});
