import { execFile, spawn } from 'node:child_process';
import { LogBuffer } from '../app/log-buffer';
import type { AppSandbox } from './limits';
import { killTree } from './process-tree';
import { shellQuote } from './confine';

export interface CommandResult {
  code: number | null;
  timedOut: boolean;
  /** Stopped for writing more than the sandbox's disk budget. */
  overDiskBudget: boolean;
  output: string;
}

/** How often a setup command's writes are measured against its sandbox's disk budget. */
const DISK_POLL_MS = 1000;

/** Bytes used under `dir` (du counts each hard-linked file once), or undefined when du fails. */
function diskUsage(dir: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile('du', ['-s', '--block-size=1', dir], { timeout: 10_000 }, (err, stdout) => {
      const n = Number.parseInt(stdout, 10);
      resolve(err && !stdout ? undefined : Number.isFinite(n) ? n : undefined);
    });
  });
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
    /** Every chunk of output as it arrives (the result keeps only its tail). */
    onOutput?: (chunk: Buffer) => void;
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
  const onData = (c: Buffer): void => {
    log.append(c);
    opts.onOutput?.(c);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  let timedOut = false;
  const killAll = (): Promise<void> =>
    child.pid ? killTree(child.pid, () => opts.sandbox?.pids() ?? []) : Promise.resolve();
  const timer = setTimeout(() => {
    timedOut = true;
    void killAll();
  }, opts.timeoutMs);
  let overDiskBudget = false;
  const budget = opts.sandbox?.diskBudget;
  const watch = budget
    ? setInterval(() => {
        void diskUsage(budget.dir).then((used) => {
          if (used !== undefined && used > budget.bytes && !overDiskBudget) {
            overDiskBudget = true;
            void killAll();
          }
        });
      }, DISK_POLL_MS)
    : undefined;
  const onAbort = (): void => void killAll();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const closed = new Promise((r) => child.once('close', r));
  return new Promise((resolve) => {
    let done = false;
    const finish = async (code: number | null): Promise<void> => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearInterval(watch);
      opts.signal?.removeEventListener('abort', onAbort);
      await killAll(); // what the command left behind
      await Promise.race([closed, new Promise((r) => setTimeout(r, OUTPUT_GRACE_MS).unref())]);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({ code, timedOut, overDiskBudget, output: log.tail(30) });
    };
    child.once('error', (e) => {
      log.append(String(e));
      void finish(null);
    });
    child.once('exit', (code) => void finish(code));
  });
}
