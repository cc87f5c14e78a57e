import { randomInt } from 'node:crypto';
import {
  check,
  expectErrorBody,
  expectJsonBody,
  expectRace,
  expectShape,
  expectStatus,
  fail,
  is,
  sandbox,
  sleep,
  type AppInstance,
  together,
} from '@sandbox/harness';
import { newCredentials, signUp } from '../../03-signup/checks/users';
import { logIn } from '../../04-login-jwt/checks/session';
import { mailsTo, verifyToken, waitForMailTo } from './mail';

const lesson = '(steps/07-email-jobs/README.md)';

/** How much sooner than its lifetime a token may lapse in an app whose clock counts whole seconds. */
const WHOLE_SECOND_MS = 1000;

// Its wait for the token to expire is the longest of its step: it runs on an instance of its own
// whose VERIFY_TOKEN_TTL_SECONDS is drawn shorter (1 or 2 s) than the run's (5 to 7 s), so that
// the wait is short; with a Redis database of its own, so that the email job, and the token if the
// app makes it in the job, is that instance's. A token of the primary, as old, must still work:
// an app with a lifetime of its own instead of VERIFY_TOKEN_TTL_SECONDS fails one or the other.
check(
  'a verification token older than VERIFY_TOKEN_TTL_SECONDS answers 400 INVALID_TOKEN and verifies nobody',
  {
    concurrent: true,
    points: 3,
    hint: `Store expires_at = now + VERIFY_TOKEN_TTL_SECONDS (default 24 h) with the token and only accept it while expires_at > now() ${lesson}.`,
    timeoutMs: 25_000,
  },
  async () => {
    const ttlSeconds = randomInt(1, 3);
    const short = await sandbox().startInstance({
      ownRedisDatabase: true,
      env: { VERIFY_TOKEN_TTL_SECONDS: String(ttlSeconds) },
    });
    try {
      await expiresAfter(short, ttlSeconds);
    } finally {
      await short.stop();
    }
  },
);

/** A token of `short` (lifetime `ttlSeconds`) 1.5 s past its lifetime is refused; one of the primary's, as old, is not. */
async function expiresAfter(short: AppInstance, ttlSeconds: number): Promise<void> {
  const { app, db, env } = sandbox();
  const runTtlMs = Number(env.VERIFY_TOKEN_TTL_SECONDS ?? 86_400) * 1000;
  // 1.5 s past the lifetime: room for clocks that count whole seconds.
  const waitMs = ttlSeconds * 1000 + 1500;
  // Both made at once, so that the primary's is as old as the other when each is tried.
  const issuedBefore = Date.now();
  const [user, kept] = await Promise.all([signUp(newCredentials(), short), signUp()]);
  const [token, keptToken] = await Promise.all([
    waitForMailTo(user.email).then((m) => verifyToken(m, short.env)),
    waitForMailTo(kept.email).then((m) => verifyToken(m)),
  ]);
  await sleep(Math.max(0, issuedBefore + waitMs - Date.now()));
  expectErrorBody(
    await short.http.get(`/auth/verify?token=${encodeURIComponent(token)}`),
    400,
    'INVALID_TOKEN',
  );
  const [row] = await db.query<{ email_verified: boolean }>(
    'select email_verified from users where id = $1',
    [user.id],
  );
  expectShape(row?.email_verified, false, 'users.email_verified after an expired token');
  const kept200 = await app.http.get(`/auth/verify?token=${encodeURIComponent(keptToken)}`);
  // At most this old when it was answered; asserted only well inside the run's lifetime (a loaded
  // machine may have taken longer).
  const keptAgeMs = Date.now() - issuedBefore;
  if (keptAgeMs < runTtlMs - WHOLE_SECOND_MS - 200 && kept200.response.status !== 200)
    fail(
      `a verification token ${(keptAgeMs / 1000).toFixed(1)} s old was refused, with VERIFY_TOKEN_TTL_SECONDS=${env.VERIFY_TOKEN_TTL_SECONDS}`,
      {
        exchange: kept200,
        expected: `200: a token lives as long as VERIFY_TOKEN_TTL_SECONDS says (${env.VERIFY_TOKEN_TTL_SECONDS} s here; an instance given ${ttlSeconds} s rightly refused a token as old)`,
      },
    );
}

check(
  'signup sends one verification email from MAIL_FROM with a ${PUBLIC_URL}/auth/verify?token= link',
  {
    concurrent: true,
    points: 4,
    hint: `After inserting the user, queue.add("verify-email", { userId }) and let a BullMQ Worker send it with nodemailer (from: MAIL_FROM, text with the link) ${lesson}.`,
  },
  async () => {
    const { env } = sandbox();
    const user = await signUp();
    const mail = await waitForMailTo(user.email);
    const fromAddress = /<([^>]+)>/.exec(env.MAIL_FROM ?? '')?.[1] ?? env.MAIL_FROM ?? '';
    expectShape(
      mail,
      { from: is.containing(fromAddress), to: [is.containing(user.email)] },
      'the verification email',
    );
    expectShape(verifyToken(mail).length >= 16, true, 'verify token has at least 16 characters');
  },
);

check(
  'GET /auth/verify marks the user verified once; the token then answers 400 INVALID_TOKEN',
  {
    concurrent: true,
    points: 4,
    hint: `Store a hash of a random token with its user and expiry; on verify, mark email_verified and delete (or mark used) the token in the same transaction, and answer {"user":{id,email,emailVerified,createdAt}} like signup; /auth/me reads the user from the database, not from the token ${lesson}.`,
  },
  async () => {
    const { app, db } = sandbox();
    const user = await signUp();
    const token = verifyToken(await waitForMailTo(user.email));
    const session = await logIn(user);
    const verified = await app.http.get(`/auth/verify?token=${encodeURIComponent(token)}`);
    expectStatus(verified, 200);
    // The signup's user shape, now verified: nothing less, nothing more (never the hash).
    expectJsonBody(verified, {
      user: is.exactly({
        id: user.id,
        email: user.email,
        emailVerified: true,
        createdAt: is.isoDate,
      }),
    });
    const [row] = await db.query<{ email_verified: boolean }>(
      'select email_verified from users where id = $1',
      [user.id],
    );
    expectShape(row?.email_verified, true, 'users.email_verified after verify');
    // /auth/me shows the user as it is now, also with a token issued before the verification.
    const me = await app.http.get('/auth/me', { token: session.token });
    expectStatus(me, 200);
    expectJsonBody(me, { user: { id: user.id, emailVerified: true } });
    expectErrorBody(
      await app.http.get(`/auth/verify?token=${encodeURIComponent(token)}`),
      400,
      'INVALID_TOKEN',
    );
    expectErrorBody(
      await app.http.get(`/auth/verify?token=${sandbox().unique('forged')}`),
      400,
      'INVALID_TOKEN',
    );
    expectErrorBody(await app.http.get('/auth/verify'), 400, 'INVALID_TOKEN');
  },
);

check(
  'POST /auth/resend-verification answers 202 {} for any well-formed email and sends a new email to an unverified user',
  {
    concurrent: true,
    points: 3,
    hint: `Always answer 202 {} (so nobody learns which emails exist) and queue a new email only for an existing, unverified user ${lesson}.`,
  },
  async () => {
    const { app } = sandbox();
    const user = await signUp();
    const firstMail = await waitForMailTo(user.email);
    const known = await app.http.post('/auth/resend-verification', { json: { email: user.email } });
    expectStatus(known, 202);
    expectJsonBody(known, is.exactly({}));
    const unknown = await app.http.post('/auth/resend-verification', {
      json: { email: newCredentials('stranger').email },
    });
    expectStatus(unknown, 202);
    expectJsonBody(unknown, is.exactly({}));
    expectErrorBody(
      await app.http.post('/auth/resend-verification', {
        json: { email: `${sandbox().unique('not')} an email` },
      }),
      400,
      'VALIDATION_FAILED',
    );
    expectErrorBody(await app.http.post('/auth/resend-verification'), 400, 'VALIDATION_FAILED');
    const second = await waitForMailTo(user.email, 5000, firstMail.receivedAt + 1);
    expectStatus(
      await app.http.get(`/auth/verify?token=${encodeURIComponent(verifyToken(second))}`),
      200,
    );
  },
);

check(
  'POST /auth/resend-verification answers 202 {} for a verified user but sends no email',
  {
    concurrent: true,
    points: 2,
    hint: `Look the user up by email and queue an email only when it exists AND email_verified is false; answer 202 {} in every case ${lesson}.`,
  },
  async () => {
    const { app } = sandbox();
    const verified = await signUp();
    const token = verifyToken(await waitForMailTo(verified.email));
    expectStatus(await app.http.get(`/auth/verify?token=${encodeURIComponent(token)}`), 200);
    const unverified = await signUp();
    const first = await waitForMailTo(unverified.email);
    const ex = await app.http.post('/auth/resend-verification', {
      json: { email: verified.email },
    });
    expectStatus(ex, 202);
    expectJsonBody(ex, is.exactly({}));
    // A later resend that must mail: once it arrived, a mail to the verified user would have too.
    expectStatus(
      await app.http.post('/auth/resend-verification', { json: { email: unverified.email } }),
      202,
    );
    await waitForMailTo(unverified.email, 5000, first.receivedAt + 1);
    await sleep(500);
    expectShape(
      mailsTo(verified.email).length,
      1,
      `emails to ${verified.email} (verified, then asked to resend)`,
    );
  },
);

check(
  'concurrent verifications with one token have one winner (200); the others answer 400 INVALID_TOKEN',
  {
    concurrent: true,
    points: 2,
    hint: `Spend the token in one atomic statement (UPDATE ... SET used_at = now() WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now() RETURNING user_id), not a SELECT followed by an UPDATE: only the request that changed the row verifies ${lesson}.`,
  },
  async () => {
    const { app } = sandbox();
    // Two rounds, each with a token of its own user: the first also gives the app's database
    // pool the connections eight requests ask for, so the second's meet no queue that would put
    // them one after another.
    const tokens = await Promise.all(
      [1, 2].map(async () => verifyToken(await waitForMailTo((await signUp()).email))),
    );
    for (const token of tokens) {
      // Eight at once, over connections opened first: a read-then-write spend lets several through.
      const answers = await together(8, (gate) =>
        app.http.get(`/auth/verify?token=${encodeURIComponent(token)}`, {
          timeoutMs: 10_000,
          gate,
        }),
      );
      expectRace(answers, { win: 200, lose: 400, code: 'INVALID_TOKEN' });
    }
  },
);
