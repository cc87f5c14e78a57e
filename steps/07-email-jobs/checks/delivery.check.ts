import {
  check,
  expectShape,
  expectStatus,
  expectWithin,
  fail,
  sandbox,
  sleep,
} from '@sandbox/harness';
import { newCredentials, signUp } from '../../03-signup/checks/users';
import { mailsTo, waitForMailTo } from './mail';

const lesson = '(steps/07-email-jobs/README.md)';

check(
  'refused deliveries are retried with backoff and end in exactly one email',
  {
    points: 4,
    hint: `queue.add(name, data, { attempts: 5, backoff: { type: "exponential", delay: JOB_BACKOFF_MS } }); send only in the job, once per attempt ${lesson}.`,
  },
  async () => {
    const { mail } = sandbox();
    const refusedBefore = mail.refusedCount();
    mail.setFaults({ refuseNext: 2 });
    const user = await signUp();
    await waitForMailTo(user.email, 8000);
    const refused = mail.refusedCount() - refusedBefore;
    await sleep(800); // a duplicate send would land within a few backoff periods
    expectShape(
      mailsTo(user.email).length,
      1,
      `emails delivered to ${user.email} (after ${refused} refused attempts)`,
    );
    if (refused < 2)
      fail(`the app made ${refused} refused attempts, expected the 2 refusals to be retried`, {
        expected: 'at least 2 refused attempts before the delivery',
      });
  },
);

check(
  'a queued email survives the app being killed and restarted',
  {
    points: 4,
    hint: `Keep jobs in Redis (BullMQ), not in memory: a job whose send failed waits in Redis for its retry, and the worker of the restarted app picks it up ${lesson}.`,
    timeoutMs: 25_000,
  },
  async () => {
    const { app, mail } = sandbox();
    const refusedBefore = mail.refusedCount();
    mail.setFaults({ refuseNext: 1000 });
    const user = await signUp();
    const deadline = Date.now() + 5000;
    while (mail.refusedCount() === refusedBefore) {
      if (Date.now() > deadline)
        fail('no delivery attempt within 5 s of signup', {
          expected: 'the job to try sending right away',
        });
      await sleep(10);
    }
    await app.kill(); // now the job waits for its retry
    mail.setFaults({ refuseNext: 0 });
    await app.restart();
    await waitForMailTo(user.email, 12_000);
    expectShape(mailsTo(user.email).length, 1, `emails delivered to ${user.email}`);
  },
);

// Last: its delayed delivery must not swallow the refusals the checks above count on.
check(
  'signup answers within 2 s while the SMTP server takes 3 s',
  {
    points: 3,
    hint: `Never await the email in the request: queue.add() the job and answer 201 right away ${lesson}.`,
  },
  async () => {
    const { app, mail } = sandbox();
    mail.setFaults({ delayMs: 3000 });
    const ex = await app.http.post('/auth/signup', {
      json: newCredentials('slowmail'),
      timeoutMs: 6000,
    });
    expectStatus(ex, 201);
    expectWithin(ex, 2000);
  },
);
