import { check, expectShape, fail, sandbox, within, type AppInstance } from '@sandbox/harness';
import { newCredentials } from '../../03-signup/checks/users';
import { newUser } from '../../04-login-jwt/checks/session';
import { splitRequest, untilRefused } from '../../01-hello-server/checks/split-request';
import { waitForMailTo } from '../../07-email-jobs/checks/mail';

check(
  'SIGTERM under load: every accepted request is answered, queued emails are sent after a restart, exit code 0',
  {
    concurrent: true,
    points: 5,
    hint: 'On SIGTERM: server.close() (waits for requests in flight), then worker.close() (lets the active job finish), then close Redis and knex, then exit 0; jobs left waiting stay in Redis (steps/09-hardening/README.md).',
    timeoutMs: 30_000,
  },
  async () => {
    // An instance of its own: the primary app keeps serving the checks beside it.
    // The owner is made through the primary while the instance starts.
    const [app, owner] = await Promise.all([sandbox().startInstance(), newUser()]);
    try {
      await sigtermUnderLoad(app, owner.token);
    } finally {
      await app.stop(); // after the restart its worker may hold other checks' jobs
    }
  },
);

async function sigtermUnderLoad(app: AppInstance, token: string): Promise<void> {
  const { mail } = sandbox();
  const signups = [newCredentials('load'), newCredentials('load'), newCredentials('load')];
  // Slow deliveries for these users only, so jobs are in hand when the signal comes.
  for (const creds of signups) mail.setFaults({ to: creds.email, delayMs: 600 });
  for (const ex of await Promise.all(
    signups.map((creds) => app.http.post('/auth/signup', { json: creds })),
  )) {
    if (ex.response.status !== 201)
      fail(`signup under load answered ${ex.response.status}`, { exchange: ex });
  }
  const inFlight = Array.from({ length: 12 }, (_, i) =>
    splitRequest(
      app.url,
      'POST',
      '/notes',
      JSON.stringify({ title: `load-${i}`, body: sandbox().unique('b') }),
      {
        Authorization: `Bearer ${token}`,
      },
    ),
  );
  await Promise.all(inFlight.map((r) => r.started)); // the app has read every request's headers
  app.signal('SIGTERM');
  await untilRefused(app.url); // the signal took effect: no new connections
  inFlight.forEach((r) => r.finish());
  const answers = await Promise.all(
    inFlight.map((r, i) =>
      within(
        r.answer,
        5000,
        `request ${i + 1} in flight got no answer within 5 s of SIGTERM`,
      ).catch((e: unknown) => ({ status: -1, text: String(e) })),
    ),
  );
  const lost = answers.filter((a) => a.status !== 201);
  if (lost.length > 0) {
    fail(
      `${lost.length} of ${answers.length} requests in flight at SIGTERM did not get their 201`,
      {
        expected: 'every request accepted before SIGTERM answered in full',
        observed: lost.map((a) => `${a.status} ${a.text.slice(0, 120)}`).join('\n'),
      },
    );
  }
  const exit = await app.waitForExit(5000);
  if (!exit)
    fail('the app was still running 5 s after SIGTERM', {
      expected: 'exit with code 0 within 5 s',
    });
  expectShape(exit.code, 0, 'exit code after SIGTERM');
  for (const creds of signups) mail.setFaults({ to: creds.email, delayMs: 0 });
  await app.restart();
  for (const creds of signups) await waitForMailTo(creds.email, 10_000);
}
