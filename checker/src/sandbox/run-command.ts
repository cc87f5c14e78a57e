import { spawn } from 'node:child_process';
import { LogBuffer } from '../app/log-buffer';
import type { AppSandbox } from './limits';
import { killTree } from './process-tree';
import { shellQuote } from './confine';

export interface CommandResult {
  code: number | null;
  timedOut: boolean;
  output: string;
}

/** After the command exits, how long its output may still arrive before the pipes are cut. */
const OUTPUT_GRACE_MS = 200;

/**
 * Runs a setup command (npm ci, npm run build) with a time limit; output kept in a bounded
 * buffer. In a `sandbox`, it runs there (as the run's uid, confined). The command is done when
 * it exits: whatever it left running (a daemon still holding the pipes) is killed then, never
 * waited for.
 */
export function runCommand(
  command: string,
  args: string[],
  opts: {
    cwd: string;
    env?: NodeJS.ProcessEnv;
    timeoutMs: number;
    signal?: AbortSignal;
    sandbox?: AppSandbox;
  },
): Promise<CommandResult> {
  const log = new LogBuffer(32 * 1024);
  const argv = opts.sandbox
    ? opts.sandbox.command(`exec ${[command, ...args].map(shellQuote).join(' ')}`)
    : [command, ...args];
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.sandbox?.spawnAs
      ? { uid: opts.sandbox.spawnAs.uid, gid: opts.sandbox.spawnAs.gid }
      : {}),
  });
  child.stdout.on('data', (c: Buffer) => log.append(c));
  child.stderr.on('data', (c: Buffer) => log.append(c));
  let timedOut = false;
  const killAll = (): Promise<void> =>
    child.pid ? killTree(child.pid, () => opts.sandbox?.pids() ?? []) : Promise.resolve();
  const timer = setTimeout(() => {
    timedOut = true;
    void killAll();
  }, opts.timeoutMs);
  const onAbort = (): void => void killAll();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const closed = new Promise((r) => child.once('close', r));
  return new Promise((resolve) => {
    let done = false;
    const finish = async (code: number | null): Promise<void> => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      await killAll(); // what the command left behind
      await Promise.race([closed, new Promise((r) => setTimeout(r, OUTPUT_GRACE_MS).unref())]);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({ code, timedOut, output: log.tail(30) });
    };
    child.once('error', (e) => {
      log.append(String(e));
      void finish(null);
    });
    child.once('exit', (code) => void finish(code));
  });
}
