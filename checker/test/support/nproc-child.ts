// Runs as an ordinary user that already has `argv[3]` tasks running (the test starts it with
// setpriv when root): starts them, then runs node in createAppSandbox and prints what it said.
import { spawn, spawnSync } from 'node:child_process';
import { createAppSandbox } from '../../src/sandbox/limits';

const workspace = process.argv[2] ?? '';
const already = Number(process.argv[3] ?? 0);
const sleepers = Array.from({ length: already }, () =>
  spawn('sleep', ['60'], { stdio: 'ignore' }).on('error', () => {}),
);
const sandbox = createAppSandbox(workspace);
try {
  // Node starts its platform threads at once and its thread pool on the first fs call.
  const [command, ...args] = sandbox.command(
    `${process.execPath} -e "require('node:fs').stat('/', () => console.log('up'))"`,
  );
  const r = spawnSync(command!, args, { encoding: 'utf8', timeout: 20_000 });
  process.stdout.write(
    `${JSON.stringify({ status: r.status, signal: r.signal, stdout: r.stdout.trim(), describe: sandbox.describe() })}\n`,
  );
} finally {
  for (const s of sleepers) s.kill('SIGKILL');
  sandbox.dispose();
}
