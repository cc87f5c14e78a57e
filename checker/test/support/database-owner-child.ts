// Starts a run's services on the warm Postgres like a checker would, says which database it got, then
// waits to be SIGKILLed (no cleanup runs). SANDBOX_CACHE_DIR names the warm cluster.
import { startLocalServices } from '../../src/services/local-services';

void startLocalServices({}).then((s) => {
  process.stdout.write(`${JSON.stringify({ database: s.databaseName, pid: process.pid })}\n`);
  setInterval(() => undefined, 60_000);
});
