// A checker that prepares a contained run of the probe app, prints the run's uid, and waits to
// be SIGKILLed (the hostile suite checks that the next checker sweeps what it leaves).
import { prepareRun } from '../../checker/src/runner/session';
import { ownerTag } from '../../checker/src/sandbox/owner';

async function main(): Promise<void> {
  const run = await prepareRun({ workspace: process.argv[2] ?? '', services: 'local' });
  const res = await fetch(`${run.context.app.url}/probe?q=%7B%7D`);
  const { uid } = (await res.json()) as { uid: number };
  process.stdout.write(`${JSON.stringify({ uid, owner: ownerTag() })}\n`);
  setInterval(() => undefined, 1000);
}

void main();
