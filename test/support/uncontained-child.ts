// Runs as an ordinary user (the hostile suite starts it with setpriv): asks for a contained run
// of a workspace it did not write, as batch grading does, and prints what the runner said.
import { prepareRun } from '../../checker/src/runner/session';
import type { RunRuntime } from '../../checker/src/results/types';

async function main(): Promise<void> {
  let runtime: RunRuntime | undefined;
  try {
    const run = await prepareRun({
      workspace: process.argv[2] ?? '',
      services: 'local',
      requireContained: true,
      onRuntime: (r) => (runtime = r),
    });
    await run.dispose();
    process.stdout.write(`${JSON.stringify({ code: 'RAN', runtime })}\n`);
  } catch (e) {
    process.stdout.write(`${JSON.stringify({ code: (e as { code?: string }).code, runtime })}\n`);
  }
}

void main();
