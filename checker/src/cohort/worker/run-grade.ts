import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunResult } from '../../results/types';
import type { GradeRequest } from './grade-child';

export interface GradeOutcome {
  exitCode: number;
  /** The checker's result; null when the child died before writing one. */
  result: RunResult | null;
  /** The end of the child's stderr (progress lines, a crash). */
  stderrTail: string;
}

/** The compiled child next to this file, or the TypeScript source through tsx (tests running from src). */
function childCommand(): string[] {
  const js = path.join(__dirname, 'grade-child.js');
  if (existsSync(js)) return [js];
  return ['--import', 'tsx', path.join(__dirname, 'grade-child.ts')];
}

/** The worker's service containers for this grading (admin URLs: in the child's env, never in its argv). */
export interface GradeServices {
  databaseUrl: string;
  redisUrl: string;
}

/**
 * Runs one grading in a child process. The child's stdin is a pipe from us: if this worker dies
 * (even SIGKILL), the pipe closes and the child stops its run and disposes its containers.
 * `signal` stops it too (SIGTERM, then SIGKILL after 20 s).
 */
export async function runGrade(
  request: GradeRequest,
  services: GradeServices,
  signal: AbortSignal,
): Promise<GradeOutcome> {
  const child = spawn(process.execPath, [...childCommand(), JSON.stringify(request)], {
    stdio: ['pipe', 'ignore', 'pipe'],
    env: {
      ...process.env,
      NO_COLOR: '1',
      SANDBOX_DATABASE_URL: services.databaseUrl,
      SANDBOX_REDIS_URL: services.redisUrl,
    },
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-16_384)));
  let killTimer: NodeJS.Timeout | undefined;
  const onAbort = (): void => {
    child.kill('SIGTERM');
    killTimer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  const exitCode = await new Promise<number>((resolve) => {
    child.once('error', () => resolve(2));
    child.once('exit', (code, sig) => resolve(code ?? (sig ? 128 + 15 : 2)));
  });
  signal.removeEventListener('abort', onAbort);
  clearTimeout(killTimer);
  const text = await readFile(request.out, 'utf8').catch(() => '');
  let result: RunResult | null = null;
  try {
    result = text ? (JSON.parse(text) as RunResult) : null;
  } catch {
    result = null;
  }
  return { exitCode, result, stderrTail: stderr.split('\n').slice(-20).join('\n') };
}
