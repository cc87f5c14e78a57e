import {
  check,
  expectErrorBody,
  expectJsonBody,
  expectShape,
  expectStatus,
  is,
  sandbox,
} from '@sandbox/harness';
import { newCredentials, signUp } from '../../03-signup/checks/users';
import { verifyToken, waitForMailTo } from './mail';

const lesson = '(steps/07-email-jobs/README.md)';

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
    hint: `Store a hash of a random token with its user and expiry; on verify, mark email_verified and delete (or mark used) the token in the same transaction ${lesson}.`,
  },
  async () => {
    const { app, db } = sandbox();
    const user = await signUp();
    const token = verifyToken(await waitForMailTo(user.email));
    const verified = await app.http.get(`/auth/verify?token=${encodeURIComponent(token)}`);
    expectStatus(verified, 200);
    expectJsonBody(verified, { user: { id: user.id, email: user.email, emailVerified: true } });
    const [row] = await db.query<{ email_verified: boolean }>(
      'select email_verified from users where id = $1',
      [user.id],
    );
    expectShape(row?.email_verified, true, 'users.email_verified after verify');
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
      await app.http.post('/auth/resend-verification', { json: { email: 'not an email' } }),
      400,
      'VALIDATION_FAILED',
    );
    const second = await waitForMailTo(user.email, 5000, firstMail.receivedAt + 1);
    expectStatus(
      await app.http.get(`/auth/verify?token=${encodeURIComponent(verifyToken(second))}`),
      200,
    );
  },
);
