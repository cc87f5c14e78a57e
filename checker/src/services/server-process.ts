import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface ServerProcess {
  readonly child: ChildProcess;
  /** Recent output, for error messages. */
  output(): string;
  /** Sends `signal`, then SIGKILL after graceMs; resolves once the process has exited. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

/**
 * Spawns a service (postgres, redis-server) in its own process group, so a Ctrl-C in the
 * terminal does not reach it before the checker tears things down in order, and resolves
 * once a line of its output matches `ready`.
 */
export function startServerProcess(
  command: string,
  args: string[],
  opts: SpawnOptions & { ready: RegExp; timeoutMs: number; name: string },
): Promise<ServerProcess> {
  const child = spawn(command, args, {
    ...opts,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const proc: ServerProcess = {
    child,
    output: () => out,
    stop: async (signal = 'SIGTERM', graceMs = 3000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => fail(`${opts.name} did not start within ${opts.timeoutMs} ms`),
      opts.timeoutMs,
    );
    const onData = (chunk: Buffer): void => {
      out = (out + chunk.toString()).slice(-8192);
      if (opts.ready.test(out)) {
        clearTimeout(timer);
        resolve(proc);
      }
    };
    const fail = (why: string): void => {
      clearTimeout(timer);
      void proc.stop('SIGKILL').then(() => reject(new Error(`${why}\n${out.trim()}`)));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (e) => fail(`${opts.name} could not be started: ${e.message}`));
    child.once('exit', (code, sig) => fail(`${opts.name} exited (${sig ?? code}) while starting`));
  });
}
