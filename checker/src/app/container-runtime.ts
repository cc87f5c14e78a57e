import { createHash, randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { spawnSync } from 'node:child_process';
import type Dockerode from 'dockerode';
import { GenericContainer, ImageName, getContainerRuntimeClient } from 'testcontainers';
import type { AppExit } from '../harness/api';
import {
  LABEL_RUN,
  resolveImages,
  runLabels,
  useEngine,
  type SandboxImages,
} from '../services/containers';
import { applyParentNeeds, parentNeeds, parentNeedsFingerprint } from './container-build-context';
import { LogBuffer } from './log-buffer';
import { SetupError } from './setup-error';
import { settleWithin } from './settle-within';

/** Limits of the learner's app container (override with SANDBOX_CONTAINER_* variables). */
export interface ContainerLimits {
  memoryBytes: number;
  cpus: number;
  pids: number;
  /** The container is killed after this long, whatever it does. */
  maxRunMs: number;
  /** Bytes of output read from the app; the rest is dropped (the log buffer keeps the tail). */
  maxOutputBytes: number;
  buildTimeoutMs: number;
}

export function containerLimits(env: NodeJS.ProcessEnv = process.env): ContainerLimits {
  const num = (name: string, fallback: number): number => {
    const v = Number(env[name]);
    return Number.isFinite(v) && v > 0 ? v : fallback;
  };
  return {
    memoryBytes: num('SANDBOX_CONTAINER_MEMORY_MB', 512) * 1024 * 1024,
    cpus: num('SANDBOX_CONTAINER_CPUS', 1),
    pids: num('SANDBOX_CONTAINER_PIDS', 256),
    maxRunMs: num('SANDBOX_CONTAINER_MAX_RUN_S', 900) * 1000,
    maxOutputBytes: num('SANDBOX_CONTAINER_MAX_OUTPUT_MB', 16) * 1024 * 1024,
    buildTimeoutMs: num('SANDBOX_CONTAINER_BUILD_TIMEOUT_S', 600) * 1000,
  };
}

export const WORKSPACE_IMAGE_REPO = 'localhost/backend-sandbox/workspace';
const APP_PORT = 3000;
const SKIPPED = new Set(['node_modules', '.git', 'dist', 'coverage', '.sandbox', '.cache']);

function dockerDir(): string {
  for (let dir = __dirname; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'docker', 'learner-app.Dockerfile');
    try {
      if (statSync(candidate).isFile()) return path.dirname(candidate);
    } catch {
      // keep looking upwards
    }
  }
  throw new SetupError(
    'checker',
    'NO_DOCKERFILE',
    'docker/learner-app.Dockerfile was not found next to the checker.',
  );
}

/** Hash of the files the image is built from (what npm ci and the build see). */
function hashTree(
  dir: string,
  hash = createHash('sha256'),
  rel = '',
): ReturnType<typeof createHash> {
  for (const name of readdirSync(path.join(dir, rel)).sort()) {
    if (SKIPPED.has(name)) continue;
    const file = path.join(rel, name);
    const st = statSync(path.join(dir, file));
    if (st.isDirectory()) hashTree(dir, hash, file);
    else if (st.isFile())
      hash.update(`${file}\0${st.mode & 0o111}\0`).update(readFileSync(path.join(dir, file)));
  }
  return hash;
}

/**
 * Builds the learner's workspace into an image (npm ci and npm run build happen inside the
 * build). The tag is a hash of the workspace and the base image, so an unchanged workspace is reused.
 */
export async function buildWorkspaceImage(
  workspace: string,
  opts: { images: SandboxImages; limits: ContainerLimits; onProgress?: (m: string) => void },
): Promise<string> {
  const dockerfile = path.join(dockerDir(), 'learner-app.Dockerfile');
  const needs = parentNeeds(workspace);
  const hash = hashTree(workspace)
    .update(opts.images.node)
    .update(readFileSync(dockerfile))
    .update(parentNeedsFingerprint(needs))
    .digest('hex')
    .slice(0, 16);
  const image = `${WORKSPACE_IMAGE_REPO}:${hash}`;
  const client = await getContainerRuntimeClient();
  if (await client.image.exists(ImageName.fromString(image)).catch(() => false)) {
    opts.onProgress?.(`Reusing the image of this workspace (${image})`);
    return image;
  }
  opts.onProgress?.(
    'Building your workspace into an image (npm ci, npm run build) inside a container...',
  );
  const context = mkdtempSync(path.join(os.tmpdir(), 'sandbox-build-'));
  try {
    cpSync(workspace, context, {
      recursive: true,
      filter: (src) => !SKIPPED.has(path.basename(src)) || src === workspace,
    });
    cpSync(dockerfile, path.join(context, 'Dockerfile.sandbox'));
    applyParentNeeds(context, needs);
    const build = GenericContainer.fromDockerfile(context, 'Dockerfile.sandbox')
      .withBuildArgs({ NODE_IMAGE: opts.images.node })
      .build(image, { deleteOnExit: false });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new Error(`the build took longer than ${opts.limits.buildTimeoutMs / 1000} s`)),
        opts.limits.buildTimeoutMs,
      );
    });
    await Promise.race([build, timeout]).finally(() => clearTimeout(timer));
    return image;
  } catch (e) {
    throw new SetupError(
      'submission',
      'BUILD_FAILED',
      `npm install or npm run build failed inside the build container: ${(e as Error).message}`,
    );
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

/** A relay on the host that only the run's network may use, forwarding to a host-local port. */
interface Relay {
  readonly port: number;
  close(): Promise<void>;
}

function inSubnet(address: string | undefined, prefix: string): boolean {
  return Boolean(address && address.replace(/^::ffff:/, '').startsWith(prefix));
}

async function startRelay(targetPort: number, subnetPrefix: string): Promise<Relay> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (!inSubnet(client.remoteAddress, subnetPrefix)) return void client.destroy();
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      s.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) =>
    server.once('error', reject).listen({ host: '0.0.0.0', port: 0 }, resolve),
  );
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Host URLs (127.0.0.1/localhost) in the app's env are rewritten to relays on the network's gateway. */
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

interface RunNetwork {
  readonly name: string;
  readonly gateway: string;
  readonly subnetPrefix: string;
  remove(): Promise<void>;
}

/** An internal network (no route out); the host answers on its gateway, firewalled to the relay ports. */
async function createRunNetwork(docker: Dockerode, runId: string): Promise<RunNetwork> {
  const name = `sandbox-${runId}`;
  const network = await docker.createNetwork({
    Name: name,
    Internal: true,
    Labels: runLabels(runId),
    CheckDuplicate: true,
  });
  const info = (await network.inspect()) as {
    IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] };
  };
  const config = info.IPAM?.Config?.[0];
  if (!config?.Subnet || !config.Gateway) {
    await network.remove().catch(() => undefined);
    throw new SetupError(
      'checker',
      'NETWORK',
      `the container network ${name} has no subnet/gateway`,
    );
  }
  const subnetPrefix = config.Subnet.split('/')[0]!.split('.').slice(0, 3).join('.') + '.';
  return {
    name,
    gateway: config.Gateway,
    subnetPrefix,
    remove: () => network.remove().then(() => undefined),
  };
}

/**
 * Host firewall: from the run's subnet, only the relay ports are open on the host (best effort:
 * needs root and iptables; without them the relays still refuse other subnets).
 */
function firewall(subnet: string, ports: number[]): () => void {
  // Only new connections: replies to the checker's own connections to the app must pass.
  const from = ['INPUT', '-s', `${subnet}0/24`, '-m', 'conntrack', '--ctstate', 'NEW'];
  const allowed = ports.length ? ['-m', 'multiport', '!', '--dports', ports.join(',')] : [];
  const rule = [...from, '-p', 'tcp', ...allowed, '-j', 'REJECT'];
  const udp = [...from, '-p', 'udp', '-j', 'REJECT'];
  const run = (op: string, r: string[]): boolean =>
    spawnSync('iptables', ['-w', '5', op, ...r], { stdio: 'ignore', timeout: 10_000 }).status === 0;
  // The engine just gave this subnet to our new network: rules for it are a killed run's leftovers, and would refuse our relays.
  const listed =
    spawnSync('iptables', ['-w', '5', '-S', 'INPUT'], { encoding: 'utf8', timeout: 10_000 })
      .stdout ?? '';
  for (const line of listed
    .split('\n')
    .filter((l) => l.startsWith('-A INPUT ') && l.includes(` -s ${subnet}0/24 `))) {
    run('-D', line.split(' ').slice(1));
  }
  const added = [rule, udp].filter((r) => run('-I', r));
  return () => {
    for (const r of added) run('-D', r);
  };
}

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

  constructor(
    private readonly docker: Dockerode,
    private readonly opts: ContainerAppOptions,
  ) {
    this.logs = opts.logs ?? new LogBuffer();
  }

  get port(): number {
    return APP_PORT;
  }

  /** The app's address as the host reaches it (its IP on the run's network). */
  get host(): string {
    return this.address;
  }

  get url(): string {
    return `http://${this.address}:${APP_PORT}`;
  }

  get running(): boolean {
    return this.container !== undefined && this.exit === undefined;
  }

  get id(): string | undefined {
    return this.container?.id;
  }

  async start(signal?: AbortSignal, readyTimeoutMs = 20_000): Promise<void> {
    if (this.running) throw new Error('the app is already running');
    await this.remove();
    const { limits } = this.opts;
    const env = {
      ...this.opts.env,
      PORT: String(APP_PORT),
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
        NetworkMode: this.opts.network,
        Memory: limits.memoryBytes,
        MemorySwap: limits.memoryBytes,
        NanoCpus: Math.round(limits.cpus * 1e9),
        PidsLimit: limits.pids,
        ReadonlyRootfs: true,
        Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=64m' },
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges'],
        LogConfig: { Type: 'k8s-file', Config: { 'max-size': '1mb' } },
      },
    });
    this.container = container;
    this.exit = undefined;
    this.logs.append(
      `--- starting your app in a container (${this.opts.image}; ${describeLimits(limits)})\n`,
    );
    await this.attachOutput(container);
    await container.start();
    const info = await container.inspect();
    this.address = info.NetworkSettings.Networks[this.opts.network]?.IPAddress ?? '';
    this.exited = container.wait().then(
      (r: { StatusCode: number }) =>
        this.setExit({
          code: r.StatusCode >= 128 ? null : r.StatusCode,
          signal: r.StatusCode >= 128 ? signalName(r.StatusCode - 128) : null,
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
  private async attachOutput(container: Dockerode.Container): Promise<void> {
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
  }

  private async waitReady(signal: AbortSignal | undefined, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (signal?.aborted) throw new SetupError('checker', 'ABORTED', 'The run was interrupted.');
      if (this.exit) {
        const how = this.exit.signal
          ? `was killed by ${this.exit.signal}`
          : `exited with code ${this.exit.code}`;
        throw new SetupError(
          'submission',
          'APP_EXITED',
          `your app ${how} before it listened on PORT=${APP_PORT}. Its last lines of output are below.`,
          this.logs.tail(),
        );
      }
      if (this.address && (await answersHttp(this.address, APP_PORT))) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.kill();
    throw new SetupError(
      'submission',
      'APP_NOT_LISTENING',
      `your app did not listen on PORT=${APP_PORT} within ${timeoutMs / 1000} s.`,
      this.logs.tail(),
    );
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
    if (this.running) await this.container.kill({ signal: 'SIGKILL' }).catch(() => undefined);
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

function describeLimits(l: ContainerLimits): string {
  return `memory ${Math.round(l.memoryBytes / 1048576)} MB, ${l.cpus} CPU, ${l.pids} pids, read-only root, no network but its services`;
}

/**
 * Anything HTTP answering `GET /health` means the app is up. A whole request (no half-close): Node's
 * server drops a half-closed connection before a slow handler (a database check) can answer.
 */
function answersHttp(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: '/health', timeout: 2000, agent: false }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/** One run's container runtime: the image, the private network, the relays to the host services. */
export interface ContainerRuntime {
  readonly runId: string;
  readonly image: string;
  readonly network: string;
  readonly limits: ContainerLimits;
  /** The app's env with host-local service URLs pointed at this run's relays. */
  readonly env: Record<string, string>;
  /** A new app container (not started) on the run's network, sharing `logs` if given. */
  createApp(logs?: LogBuffer): ContainerApp;
  dispose(): Promise<void>;
}

export interface ContainerRuntimeOptions {
  workspace: string;
  /** The env the app would get in process mode (URLs on 127.0.0.1, as the services hand them out). */
  env: Record<string, string>;
  runId?: string;
  images?: SandboxImages;
  limits?: ContainerLimits;
  onProgress?: (message: string) => void;
  /** The workspace image, when the caller built it already (buildWorkspaceImage). */
  image?: string;
}

/**
 * Prepares `--runtime container`: builds the workspace image, creates an internal network, and
 * relays the app's Postgres/Redis/SMTP URLs (host ports, e.g. the fault proxies and the mail
 * sink) through the network's gateway. The app reaches nothing else.
 */
export async function prepareContainerRuntime(
  opts: ContainerRuntimeOptions,
): Promise<ContainerRuntime> {
  await useEngine().catch((e: Error) => {
    throw new SetupError('checker', 'NO_ENGINE', e.message);
  });
  const runId = opts.runId ?? `run-${randomBytes(4).toString('hex')}`;
  const images = opts.images ?? resolveImages();
  const limits = opts.limits ?? containerLimits();
  const docker = (await getContainerRuntimeClient()).container.dockerode;
  const image =
    opts.image ??
    (await buildWorkspaceImage(opts.workspace, {
      images,
      limits,
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    }));
  const network = await createRunNetwork(docker, runId);
  const relays: Relay[] = [];
  const apps: ContainerApp[] = [];
  let unfirewall = (): void => undefined;
  const dispose = async (): Promise<void> => {
    for (const app of apps.splice(0)) await app.remove();
    unfirewall();
    for (const relay of relays.splice(0)) await relay.close();
    await network.remove().catch(() => undefined);
    // Anything else this run left (e.g. a container whose removal failed above).
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`${LABEL_RUN}=${runId}`] },
    });
    for (const c of left)
      await docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined);
  };
  try {
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(opts.env)) {
      env[key] = await relayUrl(value, network, relays);
    }
    unfirewall = firewall(
      network.subnetPrefix,
      relays.map((r) => r.port),
    );
    return {
      runId,
      image,
      network: network.name,
      limits,
      env,
      createApp(logs) {
        const app = new ContainerApp(docker, {
          image,
          runId,
          network: network.name,
          env,
          limits,
          ...(logs ? { logs } : {}),
        });
        apps.push(app);
        return app;
      },
      dispose,
    };
  } catch (e) {
    await dispose();
    throw e;
  }
}

/** postgres://u:p@127.0.0.1:5433/db -> postgres://u:p@<gateway>:<relay>/db; other values unchanged. */
async function relayUrl(value: string, network: RunNetwork, relays: Relay[]): Promise<string> {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return value;
  }
  if (!LOCAL_HOSTS.has(url.hostname) || !url.port || /^https?:$/.test(url.protocol)) return value;
  const relay = await startRelay(Number(url.port), network.subnetPrefix);
  relays.push(relay);
  url.hostname = network.gateway;
  url.port = String(relay.port);
  return url.toString();
}
