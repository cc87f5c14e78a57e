import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import type { AppExit } from '../harness/api';
import type { AppSandbox } from './limits';
import { listeningPorts } from '../app/listening-ports';
import { LogBuffer } from '../app/log-buffer';
import { commandName, descendants, killTree } from './process-tree';
import type { Workspace } from '../workspace/workspace';
import { settleWithin } from '../app/settle-within';
import { waitUntilReady } from '../runtime/readiness';
import { confinementFailed } from './confined-sandbox';

/** A start script that is one simple command can be exec'd, so the shell becomes the app's process. */
export function isSimpleCommand(script: string): boolean {
  return !/[;&|<>()`$\n\\]/.test(script) && !/^\s*(npm|npx|yarn|pnpm)\s/.test(script);
}

/** node_modules/.bin of the workspace and of every parent, like `npm run` puts on PATH. */
export function binPath(dir: string): string {
  const bins: string[] = [];
  for (let d = dir; ; d = path.dirname(d)) {
    bins.push(path.join(d, 'node_modules', '.bin'));
    if (path.dirname(d) === d) break;
  }
  return [
    ...bins,
    path.dirname(process.execPath),
    process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
  ].join(path.delimiter);
}

/** Only what the app needs: no checker secrets leak into learner code. */
export function baseEnv(dir: string, sandbox: AppSandbox | undefined): Record<string, string> {
  const keep = ['LANG', 'LC_ALL', 'TZ', 'NODE_EXTRA_CA_CERTS', 'TMPDIR'];
  const env: Record<string, string> = {
    PATH: binPath(dir),
    HOME: sandbox?.home ?? os.homedir(),
  };
  for (const k of keep) if (process.env[k]) env[k] = process.env[k];
  if (sandbox?.tmp) env.TMPDIR = sandbox.tmp;
  return env;
}

export interface AppProcessOptions {
  workspace: Workspace;
  port: number;
  env: Record<string, string>;
  sandbox?: AppSandbox;
  /** Shared by restarts, so logs show the whole story. */
  logs?: LogBuffer;
  /** How long the app has to answer HTTP on PORT (default runtime/readiness.ts READY_TIMEOUT_MS). */
  readyTimeoutMs?: number;
}

/** The learner's app as a process tree: start, readiness, signals, exit, kill. */
export class AppProcess {
  readonly logs: LogBuffer;
  private child: ChildProcess | undefined;
  private exit: AppExit | undefined;
  private exited: Promise<AppExit> = Promise.resolve({ code: null, signal: null });

  constructor(private readonly opts: AppProcessOptions) {
    this.logs = opts.logs ?? new LogBuffer();
  }

  get port(): number {
    return this.opts.port;
  }

  get running(): boolean {
    return this.child !== undefined && this.exit === undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Spawns `npm start`'s script the way npm would, and resolves once the app answers HTTP. */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.running) throw new Error('the app is already running');
    const { workspace: ws, sandbox } = this.opts;
    const script = ws.startScript.trim();
    const body = isSimpleCommand(script) ? `exec ${script}` : script;
    const [cmd, ...args] = sandbox ? sandbox.command(body) : ['/bin/sh', '-c', body];
    this.exit = undefined;
    this.logs.append(
      `--- starting: ${script} (PORT=${this.port}${sandbox ? `; ${sandbox.describe()}` : ''})\n`,
    );
    const child = spawn(cmd!, args, {
      cwd: ws.dir,
      env: { ...baseEnv(ws.dir, sandbox), ...this.opts.env, PORT: String(this.port) },
      detached: true, // its own process group: signals and kills reach the whole tree
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(sandbox?.spawnAs ? { uid: sandbox.spawnAs.uid, gid: sandbox.spawnAs.gid } : {}),
    });
    this.child = child;
    child.stdout?.on('data', (c: Buffer) => this.logs.append(c));
    child.stderr?.on('data', (c: Buffer) => this.logs.append(c));
    this.exited = new Promise((resolve) => {
      const done = (exit: AppExit): void => {
        if (this.child === child && this.exit === undefined) this.exit = exit;
        resolve(exit);
      };
      child.once('exit', (code, sig) => done({ code, signal: sig }));
      child.once('error', (e) => {
        this.logs.append(`could not start: ${e.message}\n`);
        done({ code: null, signal: null });
      });
    });
    await this.waitReady(signal);
  }

  private async waitReady(signal?: AbortSignal): Promise<void> {
    let exit: AppExit | undefined;
    void this.exited.then((e) => (exit = e));
    try {
      await this.untilReady(signal, () => exit);
    } catch (e) {
      const confinement = this.opts.sandbox?.setupFailure?.();
      if (confinement !== undefined) throw confinementFailed(confinement);
      throw e;
    }
  }

  private async untilReady(
    signal: AbortSignal | undefined,
    exit: () => AppExit | undefined,
  ): Promise<void> {
    await waitUntilReady({
      host: '127.0.0.1',
      port: this.port,
      ...(this.opts.readyTimeoutMs ? { timeoutMs: this.opts.readyTimeoutMs } : {}),
      signal,
      logs: this.logs,
      exit,
      onTimeout: async () => {
        const elsewhere = this.child?.pid
          ? listeningPorts([this.child.pid, ...descendants(this.child.pid)]).filter(
              (p) => p !== this.port,
            )
          : [];
        await this.kill();
        return elsewhere.length
          ? ` It listens on port ${elsewhere.join(', ')} instead: read the port from process.env.PORT.`
          : '';
      },
    });
  }

  /** The learner's node process: the root when the script was exec'd, else the first non-shell descendant. */
  private appPid(): number | undefined {
    const root = this.child?.pid;
    if (!root) return undefined;
    if (commandName(root) !== 'sh') return root;
    return descendants(root).find((p) => commandName(p) !== 'sh') ?? root;
  }

  signal(sig: NodeJS.Signals): void {
    const pid = this.appPid();
    if (!pid || !this.running) return;
    try {
      process.kill(pid, sig);
    } catch {
      // it just exited
    }
  }

  async waitForExit(timeoutMs: number): Promise<AppExit | null> {
    if (!this.child) return null;
    if (this.exit) return this.exit;
    return settleWithin(this.exited, timeoutMs);
  }

  /** SIGKILL the whole tree (group, descendants, cgroup members) and wait for the exit. */
  async kill(): Promise<void> {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    await killTree(pid, () => this.opts.sandbox?.pids() ?? []);
    await this.exited;
  }
}
