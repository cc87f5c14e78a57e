import {
  check,
  expectShape,
  expectStatus,
  expectWithin,
  fail,
  sandbox,
  sleep,
  type AppInstance,
  type OwnRedisDatabase,
} from '@sandbox/harness';
import { newCredentials, signUp } from '../../03-signup/checks/users';
import { delayedJobs, mailsTo, refusedAttemptsTo, waitForMailTo } from './mail';

const lesson = '(steps/07-email-jobs/README.md)';

// On an instance of its own, with a Redis database of its own: the job it queues is its own
// worker's alone, before the kill and after the restart, while the checks beside it go on.
check(
  'a queued email survives the app being killed and restarted',
  {
    concurrent: true,
    points: 4,
    hint: `Keep jobs in Redis (BullMQ), not in memory: a job whose send failed waits in Redis for its retry, and the worker of the restarted app picks it up ${lesson}.`,
    timeoutMs: 25_000,
  },
  async () => {
    const app = await sandbox().startInstance({ ownRedisDatabase: true });
    try {
      await survivesKill(app);
    } finally {
      await app.stop();
    }
  },
);

async function survivesKill(app: AppInstance & OwnRedisDatabase): Promise<void> {
  const { mail } = sandbox();
  const delayedBefore = await delayedJobs(app.redis);
  const credentials = newCredentials();
  mail.setFaults({ to: credentials.email, refuseNext: 1000 });
  const user = await signUp(credentials, app);
  const deadline = Date.now() + 5000;
  while (refusedAttemptsTo(user.email).length === 0) {
    if (Date.now() > deadline)
      fail('no delivery attempt within 5 s of signup', {
        expected: 'the job to try sending right away',
      });
    await sleep(10);
  }
  // Kill once the refused job waits in Redis for its retry: killed while its worker still
  // holds it, the job would only come back after its lock lapsed (BullMQ stalled jobs).
  const waitUntil = Date.now() + 3000;
  while (Date.now() < waitUntil && (await delayedJobs(app.redis)) <= delayedBefore) await sleep(5);
  await app.kill();
  mail.setFaults({ to: user.email, refuseNext: 0 });
  await app.restart();
  await waitForMailTo(user.email, 20_000);
  expectShape(mailsTo(user.email).length, 1, `emails delivered to ${user.email}`);
}

check(
  'refused deliveries are retried with backoff and end in exactly one email',
  {
    concurrent: true,
    points: 4,
    hint: `queue.add(name, data, { attempts: 5, backoff: { type: "exponential", delay: JOB_BACKOFF_MS } }); send only in the job, once per attempt ${lesson}.`,
  },
  async () => {
    const credentials = newCredentials();
    sandbox().mail.setFaults({ to: credentials.email, refuseNext: 2 });
    const user = await signUp(credentials);
    await waitForMailTo(user.email, 8000);
    const refused = refusedAttemptsTo(user.email).length;
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
  'retries back off exponentially: the 5 attempts are at least 1, 2, 4 and 8 × JOB_BACKOFF_MS apart',
  {
    concurrent: true,
    points: 3,
    hint: `Use BullMQ's exponential backoff with JOB_BACKOFF_MS as its delay ({ attempts: 5, backoff: { type: "exponential", delay } }), not a fixed delay and not a hard-coded base ${lesson}.`,
    timeoutMs: 20_000,
  },
  async () => {
    const { env, mail } = sandbox();
    const base = Number(env.JOB_BACKOFF_MS ?? 1000);
    const credentials = newCredentials();
    mail.setFaults({ to: credentials.email, refuseNext: 4 });
    // This check grades the retries only: an app whose signup waits for the email (the check
    // "signup answers without waiting..." fails it) would answer here only after all five
    // attempts, 15 x JOB_BACKOFF_MS later, so its answer may take that long.
    const user = await signUp(credentials, sandbox().app, { timeoutMs: 15_000 });
    const delivered = await waitForMailTo(user.email, 15_000);
    const refused = refusedAttemptsTo(user.email).map((a) => a.at);
    const attempts = [...refused, delivered.receivedAt];
    const gaps = attempts.slice(1).map((at, i) => at - (attempts[i] ?? at));
    const observed = `attempts ${gaps.map((g) => `${g} ms`).join(', ')} apart (JOB_BACKOFF_MS=${base})`;
    if (refused.length < 4)
      fail(`the email to ${user.email} was delivered after ${refused.length} refused attempts`, {
        expected: '4 refused attempts, then the delivery (the test SMTP server refused the next 4)',
        observed,
      });
    // BullMQ never runs a retry early, even on a loaded machine (the wait starts after the refusal);
    // 10% slack covers clock granularity only.
    gaps.forEach((gap, i) => {
      const least = base * 2 ** i;
      if (gap < least * 0.9)
        fail(`attempt ${i + 2} came ${gap} ms after attempt ${i + 1}`, {
          expected: `at least ${least} ms (${2 ** i} × JOB_BACKOFF_MS: exponential backoff)`,
          observed,
        });
    });
  },
);

check(
  'signup answers without waiting for a slow SMTP server (the 201 comes before the email)',
  {
    concurrent: true,
    points: 3,
    hint: `Never await the email in the request: queue.add() the job and answer 201 right away ${lesson}.`,
    timeoutMs: 20_000,
  },
  async () => {
    const { app, mail } = sandbox();
    const credentials = newCredentials('slowmail');
    mail.setFaults({ to: credentials.email, delayMs: 3000 });
    const ex = await app.http.post('/auth/signup', { json: credentials, timeoutMs: 10_000 });
    // Causal, not a stopwatch: an app that awaits SMTP answers only after the sink delivered.
    const delivered = mailsTo(credentials.email.trim().toLowerCase());
    expectStatus(ex, 201);
    if (delivered.length > 0)
      fail('signup answered only after its verification email was delivered', {
        exchange: ex,
        expected: 'the 201 before the email (the SMTP server takes 3 s per transaction)',
        observed: `the email was delivered, then the answer came after ${ex.durationMs} ms`,
      });
    // Generous: the email alone takes 3 s, a loaded machine never takes 2.5 s more for a signup.
    expectWithin(ex, 2500);
  },
);
