import { spawn } from 'node:child_process';
import { LogBuffer } from '../app/log-buffer';
import { killTree } from './process-tree';

export interface CommandResult {
  code: number | null;
  timedOut: boolean;
  output: string;
}

/** Runs a setup command (npm ci, npm run build) with a time limit; output kept in a bounded buffer. */
export function runCommand(
  command: string,
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number; signal?: AbortSignal },
): Promise<CommandResult> {
  const log = new LogBuffer(32 * 1024);
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (c: Buffer) => log.append(c));
  child.stderr.on('data', (c: Buffer) => log.append(c));
  let timedOut = false;
  const stop = (): void => {
    if (child.pid) void killTree(child.pid);
  };
  const timer = setTimeout(() => {
    timedOut = true;
    stop();
  }, opts.timeoutMs);
  opts.signal?.addEventListener('abort', stop, { once: true });
  return new Promise((resolve) => {
    const finish = (code: number | null): void => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', stop);
      resolve({ code, timedOut, output: log.tail(30) });
    };
    child.once('error', (e) => {
      log.append(String(e));
      finish(null);
    });
    child.once('close', (code) => finish(code));
  });
}
