// Runs grade() with the tiny fixture run and prints the result as JSON: `tsx grade-main.ts WORKSPACE [STEP] [--only]`
// (SANDBOX_FIXTURE_STEPS: another folder of fixtures/ than steps).
import path from 'node:path';
import { grade } from '../../../src/runner/grade';
import { prepareTinyRun } from './tiny-prepare';

async function main(): Promise<void> {
  const [workspace = '', step, only] = process.argv.slice(2);
  const result = await grade(
    {
      workspace: path.resolve(workspace),
      stepsDir: path.join(
        __dirname,
        '../fixtures',
        process.env['SANDBOX_FIXTURE_STEPS'] ?? 'steps',
      ),
      ...(step ? { step } : {}),
      only: only === '--only',
      ...(process.env['SANDBOX_FIXTURE_TIMEOUT']
        ? { timeoutSeconds: Number(process.env['SANDBOX_FIXTURE_TIMEOUT']) }
        : {}),
    },
    prepareTinyRun,
  );
  process.stdout.write(JSON.stringify(result), () => process.exit(0));
}

void main();
