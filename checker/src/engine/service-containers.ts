import { randomBytes } from 'node:crypto';
import { PostgreSqlContainer, type StartedPostgreSqlContainer } from '@testcontainers/postgresql';
import { RedisContainer, type StartedRedisContainer } from '@testcontainers/redis';
import Redis from 'ioredis';
import { Client } from 'pg';
import { ImageName, Wait, getContainerRuntimeClient } from 'testcontainers';
import { CLOSE_CLUSTER_SQL, clusterMaxConnections } from '../services/run-database';
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
  /** Redis URL reachable from the host (a db index per run; used only where no redis-server is installed: runner/session.ts). */
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

/** Where postgresContainer() puts its pg_hba.conf (read by the server as its hba_file). */
const HBA_FILE = '/etc/sandbox-pg_hba.conf';

/**
 * Who may connect, for a server several gradings use in turn: the superuser (the checker) to any
 * database, any other role only to the database named like itself (a run's role and database share
 * a name: services/run-database.ts). Without it, PUBLIC may connect to `postgres`, `template1` and
 * the runs' template, where a run could leave large objects behind for the clones made after it.
 */
const hbaFor = (superuser: string): string =>
  [
    'local all all trust',
    `host all ${superuser} all scram-sha-256`,
    'host sameuser all all scram-sha-256',
    '',
  ].join('\n');

/**
 * Starts a Postgres container and closes the databases no run owns to PUBLIC (CLOSE_CLUSTER_SQL),
 * behind the hba file's rule: a run's role reaches its own database only, by either wall.
 */
async function startPostgres(container: PostgreSqlContainer): Promise<StartedPostgreSqlContainer> {
  const pg = await container.start();
  const admin = new Client({ connectionString: adminUrlOf(pg), connectionTimeoutMillis: 10_000 });
  admin.on('error', () => undefined);
  try {
    await admin.connect();
    await admin.query(CLOSE_CLUSTER_SQL);
  } catch (e) {
    await pg.stop({ timeout: 0 }).catch(() => undefined);
    throw e;
  } finally {
    void admin.end().catch(() => undefined);
  }
  return pg;
}

/** Runs of one checker process that share its service containers at once (their connections, clusterMaxConnections). */
const SHARED_RUNS = 4;

/**
 * A Postgres container (not started) waiting on its log lines rather than Docker health checks
 * (Podman without systemd never runs those); its data on tmpfs, fsync off; connections for `runs`
 * runs at once, each at its role's limit.
 */
function postgresContainer(
  images: SandboxImages,
  labels: Record<string, string>,
  password: string,
  runs: number,
): PostgreSqlContainer {
  return (
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
      .withCopyContentToContainer([{ content: hbaFor('sandbox'), target: HBA_FILE, mode: 0o644 }])
      .withCommand([
        'postgres',
        '-c',
        'fsync=off',
        '-c',
        'full_page_writes=off',
        '-c',
        `max_connections=${clusterMaxConnections(runs)}`,
        '-c',
        `hba_file=${HBA_FILE}`,
      ])
  );
}

function redisContainer(images: SandboxImages, labels: Record<string, string>): RedisContainer {
  return new RedisContainer(images.redis).withLabels(labels).withStartupTimeout(30_000);
}

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
    startPostgres(postgresContainer(images, labels, password, SHARED_RUNS)),
    redisContainer(images, labels).start(),
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

/** One grading's share of a worker's warm service containers (WarmContainerServices.take). */
export interface WarmServiceLease {
  /** Superuser URL of the worker's Postgres: the grading makes its own database and role on it. */
  readonly databaseUrl: string;
  /** A Redis container of this grading's own, which no other grading has used or will use. */
  readonly redisUrl: string;
  /** Ends the grading's Redis container (in the background) and starts a fresh spare. */
  release(): void;
}

/** How many containers the warm services started (one Postgres for many gradings, a Redis per grading). */
export interface WarmServiceStats {
  postgresStarts: number;
  redisStarts: number;
}

/**
 * A grading worker's service containers, kept across its gradings (`sandbox worker`), so a grading
 * does not start Postgres (initdb and start: about 2 CPU-s and 10 s under load) every time:
 * - one Postgres container: each grading makes its own database and role on it, and a role may
 *   connect only to its own database (hbaFor); it is checked before every take, restarted if gone;
 * - a Redis container per grading, started ahead (`spares` of them, one per concurrent grading) and
 *   removed when its grading ends. A Redis db index is no wall (any client may SELECT another db),
 *   and what a hostile app leaves in its server (keys, CONFIG SET, scripts) must not reach the
 *   next grading: so never shared, never reused.
 * Everything carries the worker's owner labels: stop() removes it, and if the worker is SIGKILLed,
 * the next checker or worker on the machine sweeps it (removeLabelled({ orphansOnly: true })).
 */
export class WarmContainerServices {
  readonly runId = `warm-${randomBytes(4).toString('hex')}`;
  readonly stats: WarmServiceStats = { postgresStarts: 0, redisStarts: 0 };
  private readonly images: SandboxImages;
  private readonly labels: Record<string, string>;
  private postgres: Promise<StartedPostgreSqlContainer> | undefined;
  private readonly spares: Promise<StartedRedisContainer>[] = [];
  /** Removals and refills under way: stop() waits for them. */
  private readonly background = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(private readonly opts: { spares: number; images?: SandboxImages }) {
    this.images = opts.images ?? resolveImages();
    this.labels = runLabels(this.runId);
  }

  /** Starts the containers ahead of the first grading; a failure is left for take() to report. */
  warmUp(): void {
    this.track(
      (async () => {
        await useEngine();
        // A SIGKILLed worker's containers go before this one adds its own.
        await removeLabelled({ orphansOnly: true }).catch(() => undefined);
        this.refill();
        await this.healthyPostgres();
      })(),
    );
  }

  /** The worker's Postgres (started or checked) and a fresh Redis container for one grading. */
  async take(): Promise<WarmServiceLease> {
    if (this.stopped) throw new Error('the warm service containers are stopped');
    await useEngine();
    const pending = this.spares.shift() ?? this.startRedis();
    this.refill();
    const [pg, redis] = await Promise.allSettled([
      this.healthyPostgres(),
      this.freshRedis(pending),
    ]);
    if (pg.status === 'rejected' || redis.status === 'rejected') {
      if (redis.status === 'fulfilled') this.remove(redis.value);
      const reason = pg.status === 'rejected' ? pg.reason : (redis as PromiseRejectedResult).reason;
      throw new Error(`Could not start service containers: ${(reason as Error).message}`);
    }
    let released = false;
    return {
      databaseUrl: adminUrlOf(pg.value),
      redisUrl: redisUrlOf(redis.value),
      release: () => {
        if (released) return;
        released = true;
        this.remove(redis.value);
      },
    };
  }

  /** Stops every container of these services (waits for removals and refills under way). */
  async stop(): Promise<void> {
    this.stopped = true;
    const spares = this.spares.splice(0);
    const postgres = this.postgres;
    this.postgres = undefined;
    for (const spare of spares) this.track(spare.then((r) => r.stop({ timeout: 0 })));
    if (postgres) this.track(postgres.then((p) => p.stop({ timeout: 2_000 })));
    while (this.background.size) await Promise.allSettled([...this.background]);
    await removeLabelled({ runId: this.runId }).catch(() => undefined);
  }

  private track(p: Promise<unknown>): void {
    const settled = p.then(
      () => undefined,
      () => undefined,
    );
    this.background.add(settled);
    void settled.then(() => this.background.delete(settled));
  }

  private startRedis(): Promise<StartedRedisContainer> {
    this.stats.redisStarts++;
    const started = redisContainer(this.images, this.labels).start();
    started.catch(() => undefined); // reported by the take that awaits it
    return started;
  }

  private refill(): void {
    if (this.stopped) return;
    while (this.spares.length < this.opts.spares) this.spares.push(this.startRedis());
  }

  /** A spare that died meanwhile (or whose start failed) is replaced by one started now. */
  private async freshRedis(
    pending: Promise<StartedRedisContainer>,
  ): Promise<StartedRedisContainer> {
    const spare = await pending.catch(() => undefined);
    if (spare && (await answers(redisUrlOf(spare), pingRedis))) return spare;
    if (spare) this.remove(spare);
    return this.startRedis();
  }

  private remove(container: StartedRedisContainer): void {
    this.track(container.stop({ timeout: 0 }));
  }

  /** The worker's Postgres, started once; if it stopped answering (killed, out of memory), started again. */
  private async healthyPostgres(): Promise<StartedPostgreSqlContainer> {
    const current = this.postgres;
    if (current) {
      const pg = await current.catch(() => undefined);
      if (pg && (await answersAgain(adminUrlOf(pg), pingPostgres))) return pg;
      if (this.postgres === current) {
        this.postgres = undefined;
        if (pg) this.track(pg.stop({ timeout: 0 }));
      }
    }
    if (this.stopped) throw new Error('the warm service containers are stopped');
    if (!this.postgres) {
      this.stats.postgresStarts++;
      this.postgres = startPostgres(
        postgresContainer(
          this.images,
          this.labels,
          randomBytes(12).toString('hex'),
          this.opts.spares,
        ),
      );
      const starting = this.postgres;
      starting.catch(() => {
        if (this.postgres === starting) this.postgres = undefined;
      });
    }
    return this.postgres;
  }
}

const hostOf = (c: { getHost(): string }): string =>
  c.getHost() === 'localhost' ? '127.0.0.1' : c.getHost();
const adminUrlOf = (pg: StartedPostgreSqlContainer): string =>
  `postgres://${pg.getUsername()}:${pg.getPassword()}@${hostOf(pg)}:${pg.getPort()}/postgres`;
const redisUrlOf = (redis: StartedRedisContainer): string =>
  `redis://${hostOf(redis)}:${redis.getPort()}`;

async function pingPostgres(url: string): Promise<void> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    // Not awaited: end() waits for the server's close, which a worker once waited on for good.
    void client.end().catch(() => undefined);
  }
}

async function pingRedis(url: string): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 5_000,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } finally {
    redis.disconnect();
  }
}

/** How long a health probe may take: a peer that accepted the connection but never answers is down. */
const PROBE_MS = 10_000;

async function answers(url: string, ping: (url: string) => Promise<void>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), PROBE_MS);
  });
  try {
    return await Promise.race([
      ping(url).then(
        () => true,
        () => false,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Asked this many times (a second apart) before the shared Postgres is restarted: other gradings' databases live on it, so one slow answer under load is not death. */
const PING_TRIES = 3;

async function answersAgain(url: string, ping: (url: string) => Promise<void>): Promise<boolean> {
  for (let i = 0; i < PING_TRIES; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 1_000));
    if (await answers(url, ping)) return true;
  }
  return false;
}
