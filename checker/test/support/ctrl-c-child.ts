// A checker-like process for the Ctrl-C test: prepares a run, says so, then waits to be interrupted.
import { prepareRun } from '../../src/runner/session';

const workspace = process.argv[2]!;
prepareRun({ workspace })
  .then((run) => {
    process.stdout.write(
      `${JSON.stringify({ ready: true, pid: process.pid, databaseUrl: run.context.env.DATABASE_URL })}\n`,
    );
    setInterval(() => undefined, 60_000);
  })
  .catch((e: unknown) => {
    process.stdout.write(`${JSON.stringify({ ready: false, error: String(e) })}\n`);
    process.exit(1);
  });
