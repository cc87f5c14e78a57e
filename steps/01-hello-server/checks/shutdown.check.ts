import { check, fail, isCheckFailure, sandbox, within } from '@sandbox/harness';
import { splitRequest, untilRefused } from './split-request';

const hint =
  'On SIGTERM call server.close() (it stops accepting and waits for requests in flight), close your other resources, then exit with code 0 - never process.exit() before the answers are out (steps/01-hello-server/README.md).';

// It stops the primary app (an instance of its own would cost `--step 1 --only` an app start): it
// runs alone, after every other check, so the app is restarted only when a check after it needs it.
check(
  'SIGTERM finishes the request in flight, then exits with code 0 within 5 s',
  { points: 3, hint, timeoutMs: 12_000, stopsApp: true },
  async () => {
    const { app } = sandbox();
    const path = `/${sandbox().unique('in-flight')}`;
    const inFlight = splitRequest(
      app.url,
      'POST',
      path,
      JSON.stringify({ note: sandbox().unique('body') }),
    );
    await inFlight.started; // the app has read the headers: the request is in flight
    app.signal('SIGTERM');
    await untilRefused(app.url); // the signal took effect: no new connections
    inFlight.finish();
    const answer = await within(
      inFlight.answer,
      5000,
      `POST ${path}: no answer within 5 s after SIGTERM`,
      {
        expected: 'the request in flight still gets its full answer (here a 404 NOT_FOUND)',
      },
    ).catch((e: unknown) => {
      if (isCheckFailure(e)) throw e;
      fail(
        `POST ${path} sent just before SIGTERM got no answer: the connection was cut (${String(e)})`,
        {
          expected: 'the request in flight still gets its full answer; only then the process exits',
        },
      );
    });
    if (answer.status !== 404) {
      fail(`POST ${path} in flight during SIGTERM answered ${answer.status}, expected 404`, {
        expected: '404 NOT_FOUND, exactly as without the signal',
        observed: `${answer.status} ${answer.text.slice(0, 200)}`,
      });
    }
    const exit = await app.waitForExit(5000);
    if (!exit)
      fail('the app was still running 5 s after SIGTERM', {
        expected: 'exit with code 0 within 5 s',
      });
    if (exit.code !== 0) {
      fail(
        `after SIGTERM the app exited with ${exit.code === null ? `signal ${exit.signal}` : `code ${exit.code}`}, expected code 0`,
        {
          expected: 'exit code 0 (a clean shutdown)',
          observed: JSON.stringify(exit),
        },
      );
    }
  },
);
