import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { PassThrough } from 'node:stream';
import type Dockerode from 'dockerode';
import type { AppExit } from '../harness/api';
import { LogBuffer } from '../app/log-buffer';
import { settleWithin } from '../app/settle-within';
import { READY_TIMEOUT_MS, waitUntilReady } from '../runtime/readiness';
import { containerExit, killContainer, STOPS_BY_SIGKILL } from './container-exit';
import { engineKind } from './engine-kind';
import { runLabels } from './labels';
import { describeLimits, hostLimits, type ContainerLimits } from './limits';

/** When the env sets no PORT (the checker's runs always draw one). */
const DEFAULT_APP_PORT = 3000;

export interface ContainerAppOptions {
  image: string;
  runId: string;
  network: string;
  env: Record<string, string>;
  limits: ContainerLimits;
  logs?: LogBuffer;
}

/** The learner's app in its container: same surface as AppProcess (start, signal, exit, kill). */
export class ContainerApp {
  readonly logs: LogBuffer;
  private container: Dockerode.Container | undefined;
  private exit: AppExit | undefined;
  private exited: Promise<AppExit> = Promise.resolve({ code: null, signal: null });
  private address = '';
  private deadline: NodeJS.Timeout | undefined;
  /** The port the app listens on inside its container: the env's PORT. */
  private readonly appPort: number;

  constructor(
    private readonly docker: Dockerode,
    private readonly opts: ContainerAppOptions,
  ) {
    this.logs = opts.logs ?? new LogBuffer();
    this.appPort = Number(opts.env.PORT) || DEFAULT_APP_PORT;
  }

  get port(): number {
    return this.appPort;
  }

  /** The app's address as the host reaches it (its IP on the run's network). */
  get host(): string {
    return this.address;
  }

  get url(): string {
    return `http://${this.address}:${this.appPort}`;
  }

  get running(): boolean {
    return this.container !== undefined && this.exit === undefined;
  }

  get id(): string | undefined {
    return this.container?.id;
  }

  async start(signal?: AbortSignal, readyTimeoutMs = READY_TIMEOUT_MS): Promise<void> {
    if (this.running) throw new Error('the app is already running');
    await this.remove();
    const { limits } = this.opts;
    const env = {
      ...this.opts.env,
      PORT: String(this.appPort),
      HOME: '/tmp',
      NODE_ENV: this.opts.env.NODE_ENV ?? 'production',
    };
    const container = await this.docker.createContainer({
      Image: this.opts.image,
      name: `sandbox-${this.opts.runId}-app-${randomBytes(3).toString('hex')}`,
      Entrypoint: ['/bin/sh', '-c'],
      // Like npm start, without npm in between: signals reach the learner's process directly.
      Cmd: [
        'script=$(node -p "require(\'./package.json\').scripts.start"); exec /bin/sh -c "exec $script"',
      ],
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      User: '10001:10001',
      WorkingDir: '/app',
      ...STOPS_BY_SIGKILL,
      Labels: runLabels(this.opts.runId),
      // A restart keeps the address, so the instance's URL (and clients holding it) stay valid.
      ...(this.address
        ? {
            NetworkingConfig: {
              EndpointsConfig: {
                [this.opts.network]: { IPAMConfig: { IPv4Address: this.address } },
              },
            },
          }
        : {}),
      HostConfig: {
        ...hostLimits(limits.memoryBytes, limits, await engineKind(this.docker)),
        NetworkMode: this.opts.network,
        ReadonlyRootfs: true,
        Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=64m' },
      },
    });
    this.container = container;
    this.exit = undefined;
    this.logs.append(
      `--- starting your app in a container (${this.opts.image}; ${describeLimits(limits)})\n`,
    );
    const output = await this.attachOutput(container);
    await container.start();
    const info = await container.inspect();
    this.address = info.NetworkSettings.Networks[this.opts.network]?.IPAddress ?? '';
    this.exited = containerExit(container, output).then(
      (status) =>
        this.setExit({
          code: status >= 128 ? null : status,
          signal: status >= 128 ? signalName(status - 128) : null,
        }),
      () => this.setExit({ code: null, signal: null }),
    );
    this.deadline = setTimeout(() => void this.kill(), limits.maxRunMs);
    this.deadline.unref();
    await this.waitReady(signal, readyTimeoutMs);
  }

  private setExit(exit: AppExit): AppExit {
    this.exit ??= exit;
    return exit;
  }

  /** Streams stdout/stderr into the log buffer, up to the output cap. */
  private async attachOutput(container: Dockerode.Container): Promise<NodeJS.ReadableStream> {
    const stream = await container.attach({
      stream: true,
      stdout: true,
      stderr: true,
      logs: false,
    });
    const out = new PassThrough();
    let seen = 0;
    let capped = false;
    out.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (seen <= this.opts.limits.maxOutputBytes) this.logs.append(chunk);
      else if (!capped) {
        capped = true;
        this.logs.append(
          `\n--- output cap of ${this.opts.limits.maxOutputBytes} bytes reached: further output dropped\n`,
        );
      }
    });
    this.docker.modem.demuxStream(stream, out, out);
    stream.on('end', () => out.end());
    return stream;
  }

  private async waitReady(signal: AbortSignal | undefined, timeoutMs: number): Promise<void> {
    await waitUntilReady({
      host: this.address,
      port: this.appPort,
      timeoutMs,
      signal,
      logs: this.logs,
      exit: () => this.exit,
      onTimeout: async () => {
        await this.kill();
        return '';
      },
    });
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) void this.container?.kill({ signal: sig }).catch(() => undefined);
  }

  async waitForExit(timeoutMs: number): Promise<AppExit | null> {
    if (!this.container) return null;
    if (this.exit) return this.exit;
    return settleWithin(this.exited, timeoutMs);
  }

  /** SIGKILL: the container's whole process tree goes with it. */
  async kill(): Promise<void> {
    clearTimeout(this.deadline);
    if (!this.container) return;
    if (this.running) await killContainer(this.container);
    await this.exited;
  }

  /** Kills and removes the container (restart() creates a fresh one from the same image). */
  async remove(): Promise<void> {
    const container = this.container;
    if (!container) return;
    await this.kill();
    await container.remove({ force: true, v: true }).catch(() => undefined);
    this.container = undefined;
  }
}

function signalName(n: number): string {
  const entry = Object.entries(os.constants.signals).find(([, v]) => v === n);
  return entry ? entry[0] : `signal ${n}`;
}
