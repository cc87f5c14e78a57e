import { writeFileSync } from 'node:fs';
import { grade } from '../../runner/grade';
import { loadPrepareRun } from '../../runner/prepare';
import type { RunResult } from '../../results/types';

/** What the worker asks of one grading child (argv[2], JSON). */
export interface GradeRequest {
  workspace: string;
  upToStep: number | null;
  runtime: 'container' | 'process';
  timeoutSeconds: number;
  /** Where the result JSON goes. */
  out: string;
}

/**
 * One grading, in its own process (the runner keeps per-run state in the process, and a child can
 * be stopped on its own). Exits like `sandbox check`: 0 pass, 1 fail, 2 could not grade. It stops
 * (and disposes containers) when its parent goes away (stdin closes) or on SIGTERM/SIGINT.
 */
async function main(): Promise<number> {
  const request = JSON.parse(process.argv[2] ?? '{}') as GradeRequest;
  const stop = new AbortController();
  process.stdin.on('end', () => stop.abort());
  process.stdin.on('error', () => stop.abort());
  process.stdin.resume();
  process.on('SIGTERM', () => stop.abort());
  process.on('SIGINT', () => stop.abort());
  const result: RunResult = await grade(
    {
      workspace: request.workspace,
      runtime: request.runtime,
      services: 'auto',
      requireContained: true,
      timeoutSeconds: request.timeoutSeconds,
      signal: stop.signal,
      onProgress: (m) => void process.stderr.write(`${m}\n`),
      ...(request.upToStep ? { step: String(request.upToStep) } : {}),
    },
    loadPrepareRun(),
  );
  writeFileSync(request.out, JSON.stringify(result));
  if (stop.signal.aborted) return 130;
  return result.status === 'pass' ? 0 : result.status === 'fail' ? 1 : 2;
}

if (require.main === module)
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(
        `grading failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
      );
      process.exit(2);
    },
  );
