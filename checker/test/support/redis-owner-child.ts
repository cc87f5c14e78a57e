// Starts a private redis-server like a checker would, says where, then waits to be SIGKILLed (no cleanup runs).
import { startPrivateRedis } from '../../src/services/local-redis';

void startPrivateRedis().then((r) => {
  process.stdout.write(`${JSON.stringify({ port: r.port, pid: process.pid })}\n`);
  setInterval(() => undefined, 60_000);
});
