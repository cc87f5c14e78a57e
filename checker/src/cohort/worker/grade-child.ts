import { writeFileSync } from 'node:fs';
import { grade } from '../../runner/grade';
import { loadPrepareRun } from '../../runner/prepare';
import type { RunResult } from '../../results/types';

/** What the worker asks of one grading child (one line of JSON on its stdin). */
export interface GradeRequest {
  workspace: string;
  upToStep: number | null;
  runtime: 'container' | 'process';
  timeoutSeconds: number;
  /** Where the result JSON goes. */
  out: string;
  /** The worker's service containers (admin URLs); without, the local services `sandbox check` uses. */
  services?: { databaseUrl: string; redisUrl: string };
}

/**
 * The request: the first line on stdin. The child is started ahead of its grading (Node.js and the
 * checker loaded while the worker waits for a job); a stdin that closes first means no grading.
 */
function readRequest(onEnd: () => void): Promise<GradeRequest | undefined> {
  return new Promise((resolve) => {
    let buffered = '';
    let request: GradeRequest | undefined;
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk: string) => {
      if (request) return;
      buffered += chunk;
      const newline = buffered.indexOf('\n');
      if (newline < 0) return;
      request = JSON.parse(buffered.slice(0, newline)) as GradeRequest;
      resolve(request);
    });
    const end = (): void => {
      onEnd();
      resolve(request);
    };
    process.stdin.on('end', end);
    process.stdin.on('error', end);
  });
}

/**
 * One grading, in its own process (the runner keeps per-run state in the process, and a child can
 * be stopped on its own). Exits like `sandbox check`: 0 pass, 1 fail, 2 could not grade. It stops
 * (and disposes its run) when its parent goes away (stdin closes) or on SIGTERM/SIGINT.
 */
async function main(): Promise<number> {
  const stop = new AbortController();
  const request = await readRequest(() => stop.abort());
  if (!request || stop.signal.aborted) return 0; // a spare the worker no longer needs
  // In the env, where the runner looks for given services (never in argv: ps shows argv).
  if (request.services) {
    process.env['SANDBOX_DATABASE_URL'] = request.services.databaseUrl;
    process.env['SANDBOX_REDIS_URL'] = request.services.redisUrl;
  }
  process.on('SIGTERM', () => stop.abort());
  process.on('SIGINT', () => stop.abort());
  const result: RunResult = await grade(
    {
      workspace: request.workspace,
      runtime: request.runtime,
      // Given service URLs (the worker's containers) are used as they are; without, the local services `check` uses.
      services: request.services ? 'auto' : 'local',
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
