import { spawn, type ChildProcess } from 'node:child_process';
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
  /** performance.now() when the request went to the child (started ahead, or now), and when it had exited. */
  spawnedAt: number;
  exitedAt: number;
}

/** The compiled child next to this file, or the TypeScript source through tsx (tests running from src). */
function childCommand(): string[] {
  const js = path.join(__dirname, 'grade-child.js');
  if (existsSync(js)) return [js];
  return ['--import', 'tsx', path.join(__dirname, 'grade-child.ts')];
}

/** The worker's service containers for this grading (admin URLs: sent on the child's stdin, never in its argv); none: the child's local services. */
export interface GradeServices {
  databaseUrl: string;
  redisUrl: string;
}

/** A grading child, started: it waits for its request on stdin. */
interface StartedChild {
  child: ChildProcess;
  stderr(): string;
}

function startChild(): StartedChild {
  const child = spawn(process.execPath, childCommand(), {
    stdio: ['pipe', 'ignore', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-16_384)));
  child.stdin!.on('error', () => undefined); // a child that died: its exit tells
  child.once('error', () => undefined);
  return { child, stderr: () => stderr };
}

const alive = (c: StartedChild): boolean =>
  c.child.exitCode === null && c.child.signalCode === null && c.child.pid !== undefined;

/**
 * Grading children started ahead, one per slot: Node.js and the checker (about a second of
 * loading under load) are ready when a job comes, off the submission's path.
 */
export class SpareGradingChildren {
  private readonly spares: StartedChild[] = [];
  private stopped = false;

  constructor(private readonly count: number) {}

  fill(): void {
    for (let i = this.spares.filter(alive).length; i < this.count && !this.stopped; i++)
      this.spares.push(startChild());
  }

  /** A started child (a spare when one is alive; then another spare starts). */
  take(): StartedChild {
    let taken: StartedChild | undefined;
    while (!taken && this.spares.length) {
      const c = this.spares.shift()!;
      if (alive(c)) taken = c;
    }
    this.fill();
    return taken ?? startChild();
  }

  /** The spares see their stdin close and exit. */
  stop(): void {
    this.stopped = true;
    for (const c of this.spares.splice(0)) c.child.stdin!.end();
  }
}

/**
 * Runs one grading in a child process (a spare, or one started now). The child's stdin is a pipe
 * from us: if this worker dies (even SIGKILL), the pipe closes and the child stops its run and
 * disposes it. `signal` stops it too (SIGTERM, then SIGKILL after 20 s).
 */
export async function runGrade(
  request: GradeRequest,
  services: GradeServices | undefined,
  signal: AbortSignal,
  spares?: SpareGradingChildren,
): Promise<GradeOutcome> {
  const spawnedAt = performance.now();
  const { child, stderr } = spares?.take() ?? startChild();
  const exited = new Promise<number>((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('error', () => resolve(2));
    child.once('exit', (code, sig) => resolve(code ?? (sig ? 128 + 15 : 2)));
  });
  child.stdin!.write(`${JSON.stringify({ ...request, ...(services ? { services } : {}) })}\n`);
  let killTimer: NodeJS.Timeout | undefined;
  const onAbort = (): void => {
    child.kill('SIGTERM');
    killTimer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  const exitCode = await exited;
  const exitedAt = performance.now();
  signal.removeEventListener('abort', onAbort);
  clearTimeout(killTimer);
  const text = await readFile(request.out, 'utf8').catch(() => '');
  let result: RunResult | null = null;
  try {
    result = text ? (JSON.parse(text) as RunResult) : null;
  } catch {
    result = null;
  }
  return {
    exitCode,
    result,
    stderrTail: stderr().split('\n').slice(-20).join('\n'),
    spawnedAt,
    exitedAt,
  };
}
