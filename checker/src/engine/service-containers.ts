import { randomBytes } from 'node:crypto';
import { PostgreSqlContainer, type StartedPostgreSqlContainer } from '@testcontainers/postgresql';
import { RedisContainer, type StartedRedisContainer } from '@testcontainers/redis';
import Redis from 'ioredis';
import { ImageName, Wait, getContainerRuntimeClient } from 'testcontainers';
import { findEngine, useEngine } from './client';
import { resolveImages, type SandboxImages } from './images';
import { runLabels } from './labels';
import { removeLabelled } from './sweep';

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
 * Starts Postgres and Redis in containers, labelled with the run id. Waits on their log lines
 * rather than Docker health checks (Podman without systemd never runs those); the ports are
 * mapped before the containers start.
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
      // The log lines alone: forListeningPorts probes by `exec` in the container, over and over under
      // load (each one costs the engine a process; podman 4.3 left their conmon processes behind).
      .withWaitStrategy(Wait.forLogMessage(POSTGRES_READY, 2))
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
