import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { PostgreSqlContainer, type StartedPostgreSqlContainer } from '@testcontainers/postgresql';
import { RedisContainer, type StartedRedisContainer } from '@testcontainers/redis';
import Redis from 'ioredis';
import { ImageName, Wait, getContainerRuntimeClient } from 'testcontainers';
import { orphaned, ownerTag } from '../sandbox/owner';

/** Every container, network and image the checker creates carries these labels (cleanup is by label). */
export const LABEL = 'backend-sandbox';
export const LABEL_RUN = 'backend-sandbox.run';
export const LABEL_OWNER_PID = 'backend-sandbox.pid';
/** The owner's start time (sandbox/owner.ts): with the pid, who owns a container, network or volume. */
export const LABEL_OWNER = 'backend-sandbox.owner';

/** Where setup-podman.sh puts the Docker-compatible API, and Docker's own default socket. */
const KNOWN_SOCKETS = ['/run/podman/podman.sock', '/var/run/docker.sock'];

export interface SandboxImages {
  postgres: string;
  redis: string;
  node: string;
  /** True when the names come from the local build (docker/images/build.sh), not a registry. */
  local: boolean;
}

/** The official images, used on a machine whose engine can pull from a registry. */
export const OFFICIAL_IMAGES: Readonly<SandboxImages> = Object.freeze({
  postgres: 'postgres:16-alpine',
  redis: 'redis:7-alpine',
  node: 'node:20-slim',
  local: false,
});

/** docker/.build/images.json, written by docker/images/build.sh. */
export function localImagesFile(repoRoot = findRepoRoot()): string {
  return path.join(repoRoot, 'docker', '.build', 'images.json');
}

function findRepoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'docker', 'images', 'build.sh'))) {
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}

/**
 * Image names are configuration: SANDBOX_{POSTGRES,REDIS,NODE}_IMAGE win; otherwise the local build
 * when present (or required by SANDBOX_LOCAL_IMAGES=1); otherwise the official images.
 */
export function resolveImages(
  env: NodeJS.ProcessEnv = process.env,
  file = localImagesFile(),
): SandboxImages {
  const wantLocal = env.SANDBOX_LOCAL_IMAGES === '1' || env.SANDBOX_LOCAL_IMAGES === 'true';
  let base: SandboxImages = { ...OFFICIAL_IMAGES };
  if (fs.existsSync(file)) {
    const built = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<
      Record<'postgres' | 'redis' | 'node', string>
    >;
    if (built.postgres && built.redis && built.node) {
      base = { postgres: built.postgres, redis: built.redis, node: built.node, local: true };
    }
  } else if (wantLocal) {
    throw new Error(
      `SANDBOX_LOCAL_IMAGES is set but ${file} is missing: run docker/images/build.sh first`,
    );
  }
  return {
    postgres: env.SANDBOX_POSTGRES_IMAGE || base.postgres,
    redis: env.SANDBOX_REDIS_IMAGE || base.redis,
    node: env.SANDBOX_NODE_IMAGE || base.node,
    local: base.local,
  };
}

function pingSocket(socketPath: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/_ping', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

function pingTcp(url: URL, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(
      { host: url.hostname, port: url.port, path: '/_ping', timeout: timeoutMs },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/**
 * Finds a container engine that answers (DOCKER_HOST first, then the known sockets) and returns the
 * DOCKER_HOST to use, or undefined. Never throws.
 */
export async function findEngine(
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs = 1500,
): Promise<string | undefined> {
  const configured = env.DOCKER_HOST;
  if (configured) {
    if (configured.startsWith('unix://')) {
      return (await pingSocket(configured.slice('unix://'.length), timeoutMs))
        ? configured
        : undefined;
    }
    if (configured.startsWith('tcp://')) {
      return (await pingTcp(new URL(configured.replace('tcp://', 'http://')), timeoutMs))
        ? configured
        : undefined;
    }
    return undefined;
  }
  for (const socket of KNOWN_SOCKETS) {
    if (fs.existsSync(socket) && (await pingSocket(socket, timeoutMs))) return `unix://${socket}`;
  }
  return undefined;
}

export const ENGINE_SETUP_HINT =
  'No container engine answers. On Debian/Ubuntu run `sudo docker/engine/setup-podman.sh` then ' +
  '`docker/images/build.sh` and `export DOCKER_HOST=unix:///run/podman/podman.sock`; ' +
  'or start Docker; or grade with `--services local`.';

/**
 * Points Testcontainers at the engine. Ryuk (the reaper) needs a registry pull, so it is off
 * unless the user turned it on: containers are removed by label instead (removeLabelled).
 */
export async function useEngine(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const dockerHost = await findEngine(env);
  if (!dockerHost) throw new Error(ENGINE_SETUP_HINT);
  env.DOCKER_HOST = dockerHost;
  env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  return dockerHost;
}

/**
 * For `--services auto`: an engine answers and both service images are there already (built by
 * docker/images/build.sh, or pulled), so containers start without a registry. Never throws.
 */
export async function containerServicesReady(
  env: NodeJS.ProcessEnv = process.env,
): Promise<boolean> {
  try {
    if (!(await findEngine(env))) return false;
    await useEngine(env);
    const images = resolveImages(env);
    const client = await getContainerRuntimeClient();
    const present = await Promise.all(
      [images.postgres, images.redis].map((i) => client.image.exists(ImageName.fromString(i))),
    );
    return present.every(Boolean);
  } catch {
    return false;
  }
}

export function runLabels(runId: string): Record<string, string> {
  return {
    [LABEL]: 'true',
    [LABEL_RUN]: runId,
    [LABEL_OWNER_PID]: String(process.pid),
    [LABEL_OWNER]: ownerTag(),
  };
}

export interface RemovedCount {
  containers: number;
  networks: number;
  volumes: number;
}

/** Owner still alive on this machine? (signal 0 only checks) */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes containers, networks and volumes labelled by the sandbox. With `runId`, only that run's;
 * with `orphansOnly`, only those whose owning checker process is gone (interrupted runs).
 */
export async function removeLabelled(
  opts: { runId?: string; orphansOnly?: boolean } = {},
): Promise<RemovedCount> {
  const client = await getContainerRuntimeClient();
  const dockerode = client.container.dockerode;
  const label = opts.runId ? `${LABEL_RUN}=${opts.runId}` : `${LABEL}=true`;
  const owned = (labels: Record<string, string> | undefined): boolean => {
    if (!opts.orphansOnly) return true;
    const owner = labels?.[LABEL_OWNER];
    if (owner) return orphaned(owner);
    const pid = Number(labels?.[LABEL_OWNER_PID]); // labelled before owners had a start time
    return !Number.isInteger(pid) || pid <= 0 || !pidAlive(pid);
  };
  const removed: RemovedCount = { containers: 0, networks: 0, volumes: 0 };
  const containers = await dockerode.listContainers({ all: true, filters: { label: [label] } });
  for (const info of containers.filter((c) => owned(c.Labels))) {
    await dockerode
      .getContainer(info.Id)
      .remove({ force: true, v: true })
      .then(() => removed.containers++)
      .catch(() => undefined);
  }
  const networks = await dockerode.listNetworks({ filters: { label: [label] } });
  for (const info of networks.filter((n) => owned(n.Labels))) {
    await dockerode
      .getNetwork(info.Id)
      .remove()
      .then(() => removed.networks++)
      .catch(() => undefined);
  }
  const volumes = await dockerode.listVolumes({ filters: { label: [label] } });
  for (const info of (volumes.Volumes ?? []).filter((v) => owned(v.Labels ?? undefined))) {
    await dockerode
      .getVolume(info.Name)
      .remove()
      .then(() => removed.volumes++)
      .catch(() => undefined);
  }
  return removed;
}

/** Counts what carries the sandbox label (tests assert nothing is left). */
export async function countLabelled(runId?: string): Promise<RemovedCount> {
  const dockerode = (await getContainerRuntimeClient()).container.dockerode;
  const label = runId ? `${LABEL_RUN}=${runId}` : `${LABEL}=true`;
  const [containers, networks, volumes] = await Promise.all([
    dockerode.listContainers({ all: true, filters: { label: [label] } }),
    dockerode.listNetworks({ filters: { label: [label] } }),
    dockerode.listVolumes({ filters: { label: [label] } }),
  ]);
  return {
    containers: containers.length,
    networks: networks.length,
    volumes: (volumes.Volumes ?? []).length,
  };
}

/** Counts what a checker process (by its pid label) left: zero once its runs are disposed. */
export async function countOwnedBy(pid: number): Promise<RemovedCount> {
  const dockerode = (await getContainerRuntimeClient()).container.dockerode;
  const label = [`${LABEL_OWNER_PID}=${pid}`];
  const [containers, networks, volumes] = await Promise.all([
    dockerode.listContainers({ all: true, filters: { label } }),
    dockerode.listNetworks({ filters: { label } }),
    dockerode.listVolumes({ filters: { label } }),
  ]);
  return {
    containers: containers.length,
    networks: networks.length,
    volumes: (volumes.Volumes ?? []).length,
  };
}

/** Admin endpoints of container services: the same shape local mode hands to per-run isolation. */
export interface ContainerServices {
  readonly runId: string;
  /** Superuser URL reachable from the host (per-run databases and roles are created on it). */
  readonly databaseUrl: string;
  /** Redis URL reachable from the host (per-run isolation by db index, as in local mode). */
  readonly redisUrl: string;
  readonly images: SandboxImages;
  /** Container ids, for tests and diagnostics. */
  readonly containerIds: { postgres: string; redis: string };
  stop(): Promise<void>;
}

export interface StartContainerServicesOptions {
  runId?: string;
  images?: SandboxImages;
  onProgress?: (message: string) => void;
}

/** The official image logs this twice: once for the init-time server, once for the real one. */
const POSTGRES_READY = /database system is ready to accept connections/;

/**
 * Starts Postgres and Redis in containers, labelled with the run id. Waits on log lines and the
 * mapped port rather than Docker health checks (Podman without systemd never runs those).
 */
export async function startContainerServices(
  opts: StartContainerServicesOptions = {},
): Promise<ContainerServices> {
  await useEngine();
  const runId = opts.runId ?? `svc-${randomBytes(4).toString('hex')}`;
  const images = opts.images ?? resolveImages();
  const labels = runLabels(runId);
  const password = randomBytes(12).toString('hex');
  // Interrupted runs leave containers behind; a new run removes those whose checker is gone.
  await removeLabelled({ orphansOnly: true }).catch(() => undefined);

  opts.onProgress?.(
    `Starting Postgres and Redis containers (${images.postgres}, ${images.redis})...`,
  );
  const started = await Promise.allSettled([
    new PostgreSqlContainer(images.postgres)
      .withUsername('sandbox')
      .withPassword(password)
      .withDatabase('postgres')
      .withLabels(labels)
      .withWaitStrategy(
        Wait.forAll([Wait.forLogMessage(POSTGRES_READY, 2), Wait.forListeningPorts()]),
      )
      .withStartupTimeout(60_000)
      .withTmpFs({ '/var/lib/postgresql/data': 'rw' })
      .withCommand([
        'postgres',
        '-c',
        'fsync=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=300',
      ])
      .start(),
    new RedisContainer(images.redis).withLabels(labels).withStartupTimeout(30_000).start(),
  ]);
  const [pg, redis] = started;
  if (pg.status === 'rejected' || redis.status === 'rejected') {
    await Promise.allSettled(
      started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)),
    );
    await removeLabelled({ runId }).catch(() => undefined);
    const reason =
      pg.status === 'rejected' ? pg.reason : redis.status === 'rejected' ? redis.reason : undefined;
    throw new Error(`Could not start service containers: ${(reason as Error).message}`);
  }
  return servicesOf(runId, images, pg.value, redis.value);
}

function servicesOf(
  runId: string,
  images: SandboxImages,
  pg: StartedPostgreSqlContainer,
  redis: StartedRedisContainer,
): ContainerServices {
  const host = pg.getHost() === 'localhost' ? '127.0.0.1' : pg.getHost();
  const databaseUrl = `postgres://${pg.getUsername()}:${pg.getPassword()}@${host}:${pg.getPort()}/postgres`;
  const redisUrl = `redis://${host}:${redis.getPort()}`;
  let stopping: Promise<void> | undefined;
  return {
    runId,
    databaseUrl,
    redisUrl,
    images,
    containerIds: { postgres: pg.getId(), redis: redis.getId() },
    stop() {
      stopping ??= (async () => {
        await Promise.allSettled([pg.stop({ timeout: 2_000 }), redis.stop({ timeout: 2_000 })]);
        await removeLabelled({ runId });
      })();
      return stopping;
    },
  };
}

/**
 * One set of service containers per checker process: the first caller starts them, later callers
 * share them (each run still gets its own database and Redis db). `release()` stops them.
 */
export class SharedContainerServices {
  private pending: Promise<ContainerServices> | undefined;

  constructor(private readonly options: StartContainerServicesOptions = {}) {}

  acquire(onProgress?: (message: string) => void): Promise<ContainerServices> {
    this.pending ??= startContainerServices({
      ...this.options,
      onProgress: onProgress ?? this.options.onProgress,
    });
    this.pending.catch(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  async release(): Promise<void> {
    const pending = this.pending;
    this.pending = undefined;
    if (pending) await (await pending.catch(() => undefined))?.stop();
  }
}

let processServices: SharedContainerServices | undefined;
/** Runs holding the process's service containers, and the Redis db index each one uses. */
const leasedDbs = new Set<number>();
let keptWarm = false;
const REDIS_DBS = 16;

/** One run's share of the process's service containers: admin URLs, its own Redis db index. */
export interface ContainerServiceLease {
  readonly databaseUrl: string;
  /** The container Redis with this run's db index (flushed before use: the container is ours). */
  readonly redisUrl: string;
  /** The last lease released stops the containers, unless keepContainerServicesWarm(true). */
  release(): Promise<void>;
}

/**
 * For the provider choice in runner/session.ts: the first run of the process starts the service
 * containers, concurrent runs share them (each gets its own database from the template and its own
 * Redis db), and the last run released stops them (nothing is left once grading is over).
 */
export async function leaseContainerServices(
  onProgress?: (message: string) => void,
): Promise<ContainerServiceLease> {
  const db = [...Array(REDIS_DBS).keys()].find((i) => !leasedDbs.has(i));
  if (db === undefined)
    throw new Error(`more than ${REDIS_DBS} concurrent runs share this process's Redis container`);
  leasedDbs.add(db);
  let released = false;
  const release = async (): Promise<void> => {
    if (released) return;
    released = true;
    leasedDbs.delete(db);
    if (leasedDbs.size === 0 && !keptWarm) await stopContainerServices();
  };
  try {
    processServices ??= new SharedContainerServices();
    const services = await processServices.acquire(onProgress);
    const redisUrl = `${services.redisUrl}/${db}`;
    const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      await redis.flushdb();
    } finally {
      redis.disconnect();
    }
    return { databaseUrl: services.databaseUrl, redisUrl, release };
  } catch (e) {
    await release();
    throw e;
  }
}

/** Keep the service containers between runs of this process (benchmarks, watch); stopContainerServices() ends them. */
export function keepContainerServicesWarm(keep: boolean): void {
  keptWarm = keep;
}

/** Stops this process's service containers (when the last run releases them, or at the end of a benchmark). */
export async function stopContainerServices(): Promise<void> {
  const services = processServices;
  processServices = undefined;
  await services?.release();
}
