import { SetupError } from '../app/setup-error';
import type { InstanceOptions, RedisInspector, RunContext } from '../harness/api';
import type { SpawnedInstance } from '../harness/context';
import { drawRunVariables } from '../runtime/app-env';
import type { AppRuntime, RuntimeDescription, RuntimeInstance } from '../runtime/app-runtime';
import type { TypeCheckResult } from '../results/types';
import { createAppRuntime } from '../runtime/create-app-runtime';
import { findRedisServer } from '../services/binaries';
import type { Services } from '../services/local-services';
import { readWorkspace, type Workspace } from '../workspace/workspace';
import { timed, type OnTiming } from './timings';

export { SetupError };
export { appEnv } from '../runtime/app-env';

export interface RunOptions {
  workspace: string;
  /** Admin URL of a Postgres to create per-run databases on. */
  databaseUrl?: string;
  redisUrl?: string;
  services?: 'auto' | 'local' | 'containers';
  runtime?: 'process' | 'container';
  /** "Starting Postgres...", "npm ci...", shown by the CLI. */
  onProgress?: (message: string) => void;
  /** Ctrl-C / time limit: dispose everything. */
  signal?: AbortSignal;
  /** Where setup time goes (setup.services, setup.install, setup.build, setup.app, services.*). */
  onTiming?: OnTiming;
  /** Refuse (SetupError UNCONTAINED, before any learner code runs) when the runtime cannot contain the run. */
  requireContained?: boolean;
  /** Told once which runtime was chosen and whether it contains the run. */
  onRuntime?: (runtime: RuntimeDescription) => void;
  /** Type-check the workspace beside the checks (reported, not graded): `sandbox check` does. */
  typeCheck?: boolean;
  /**
   * Called once, as the primary app starts (everything else is set up): the grader starts jest
   * then, so jest's loading, which keeps this thread busy, overlaps the app's start, not the set-up.
   */
  onAppStarting?: () => void;
}

export interface Run {
  context: RunContext;
  runtime: RuntimeDescription;
  dispose(): Promise<void>;
  /**
   * Once the checks are over: stops the apps and tears the services down, leaving the type check
   * to finish; dispose() still ends everything (and waits for this).
   */
  release(): Promise<void>;
  /** Before each check: restarts the primary app if a check left it stopped. */
  ensureAppRunning(): Promise<void>;
  /** After each check: stops extra instances, closes sockets, brings services back, clears mail faults. */
  afterCheck(): Promise<void>;
  /** The workspace's type check, once it ends (undefined when it did not run). */
  typeCheck(): Promise<TypeCheckResult | undefined>;
}

/**
 * The container engine's client (testcontainers, dockerode): loaded only by runs that use it. A
 * local run never needs it, and loading it costs a local re-check about half a second.
 */
function engineModule(): typeof import('../engine') {
  return require('../engine') as typeof import('../engine');
}

/**
 * The services (pg, ioredis, the mail sink) and the checks' context: loaded once the workspace's
 * set-up has started (prepareRun), so its build and type check do not wait for a few hundred
 * milliseconds of module loading.
 */
function servicesModule(): typeof import('../services/local-services') {
  return require('../services/local-services') as typeof import('../services/local-services');
}
function warmPostgresModule(): typeof import('../services/warm-postgres') {
  return require('../services/warm-postgres') as typeof import('../services/warm-postgres');
}
function contextModule(): typeof import('../harness/context') {
  return require('../harness/context') as typeof import('../harness/context');
}

/**
 * Where Postgres and Redis come from. `auto` (the CLI's default): given URLs or a warm Postgres
 * (`sandbox services up`) mean local; otherwise containers when an engine answers with the service
 * images present, and always for `--runtime container`; otherwise local. Callers that pass nothing get local.
 */
async function chooseServices(opts: RunOptions): Promise<'local' | 'containers'> {
  const mode = opts.services ?? 'local';
  if (mode !== 'auto') return mode;
  if (
    opts.databaseUrl ??
    opts.redisUrl ??
    process.env.SANDBOX_DATABASE_URL ??
    process.env.SANDBOX_REDIS_URL
  )
    return 'local';
  if (opts.runtime === 'container') return 'containers';
  if (await warmPostgresModule().findWarmPostgres()) return 'local';
  return (await engineModule().containerServicesReady()) ? 'containers' : 'local';
}

/** Local services, in front of the process's service containers when `mode` is containers. */
async function startServices(
  opts: RunOptions,
  mode: 'local' | 'containers',
  cleanups: (() => Promise<void>)[],
): Promise<Services> {
  let urls: { databaseUrl?: string; redisUrl?: string } = {
    ...((opts.databaseUrl ?? process.env.SANDBOX_DATABASE_URL)
      ? { databaseUrl: opts.databaseUrl ?? process.env.SANDBOX_DATABASE_URL }
      : {}),
    ...((opts.redisUrl ?? process.env.SANDBOX_REDIS_URL)
      ? { redisUrl: opts.redisUrl ?? process.env.SANDBOX_REDIS_URL }
      : {}),
  };
  if (mode === 'containers') {
    const { ENGINE_SETUP_HINT, leaseContainerServices } = engineModule();
    const lease = await timed(opts.onTiming, 'services.containers', () =>
      leaseContainerServices(opts.onProgress).catch((e: Error) => {
        throw new SetupError(
          'checker',
          'CONTAINERS_FAILED',
          `${e.message}${/engine/i.test(e.message) ? '' : ` (${ENGINE_SETUP_HINT})`}`,
        );
      }),
    );
    cleanups.push(() => lease.release());
    // A run's Redis is a server of its own wherever redis-server is installed: the container's is
    // shared by the process's runs, a db index each, and one run's app could reach the others'
    // (SELECT, FLUSHALL, CONFIG SET, pub/sub channels, which no db index separates).
    urls = {
      databaseUrl: lease.databaseUrl,
      ...(findRedisServer() ? {} : { redisUrl: lease.redisUrl }),
    };
  }
  const services = await servicesModule().startLocalServices({
    ...urls,
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.onTiming ? { onTiming: opts.onTiming } : {}),
  });
  cleanups.push(() => services.dispose());
  return services;
}

/** Prepares one run: services, install/build, the app; everything is disposed on failure, abort, SIGINT/SIGTERM. */
export async function prepareRun(opts: RunOptions): Promise<Run> {
  const ws: Workspace = readWorkspace(opts.workspace);
  const cleanups: (() => Promise<void>)[] = [];
  let runtime: AppRuntime | undefined;
  let stopApps: (() => Promise<void>) | undefined;
  let disposed = false;
  let disposing: Promise<void> = Promise.resolve();
  // Every call also runs what was registered since the last one: a service that finishes starting
  // after Ctrl-C registers its cleanup late, and the setup's own dispose() must still stop it.
  const dispose = (): Promise<void> => {
    if (!disposed) {
      disposed = true;
      removeSignalHandlers();
      opts.signal?.removeEventListener('abort', onAbort);
    }
    disposing = disposing.then(async () => {
      // The apps first (they use the services); then, side by side, the runtime's sandboxes (the
      // run's dir is removed file by file) and the services, which nothing of the run uses any more.
      await stopTheApps();
      const rt = runtime;
      runtime = undefined;
      await Promise.all([rt?.dispose().catch(() => undefined), stopTheServices()]);
    });
    return disposing;
  };
  const stopTheApps = async (): Promise<void> => {
    const apps = stopApps;
    stopApps = undefined;
    await apps?.().catch(() => undefined);
  };
  const stopTheServices = async (): Promise<void> => {
    for (const step of cleanups.splice(0).reverse()) await step().catch(() => undefined);
  };
  const release = (): Promise<void> => {
    disposing = disposing.then(async () => {
      await stopTheApps();
      await stopTheServices();
    });
    return disposing;
  };
  const onAbort = (): void => void dispose();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const removeSignalHandlers = opts.signal ? () => undefined : installSignalHandlers(dispose);
  const aborted = (): void => {
    if (opts.signal?.aborted || disposed)
      throw new SetupError('checker', 'ABORTED', 'The run was interrupted.');
  };

  try {
    const rt = createAppRuntime(opts.runtime, ws, {
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      ...(opts.onTiming ? { onTiming: opts.onTiming } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.typeCheck ? { typeCheck: true } : {}),
    });
    runtime = rt;
    opts.onRuntime?.(rt.description);
    if (opts.requireContained && !rt.description.contained)
      throw new SetupError(
        'checker',
        'UNCONTAINED',
        `Refusing to run this workspace uncontained (${rt.description.reason ?? 'no sandbox'}). Pass --allow-uncontained to grade it anyway.`,
      );
    // The workspace's set-up (its build, the type check beside it) starts at once, before the
    // services are even chosen: finding a warm Postgres is a round trip, and jest, starting in this
    // process meanwhile, keeps the event loop busy for a few hundred milliseconds.
    const building = rt.prepare();
    const chosen = chooseServices(opts);
    const servicesP = chosen.then((mode) =>
      timed(opts.onTiming, 'setup.services', () => startServices(opts, mode, cleanups)),
    );
    const [choice, svc, build] = await Promise.allSettled([chosen, servicesP, building]);
    if (choice.status === 'rejected') throw choice.reason;
    if (build.status === 'rejected') throw build.reason;
    if (svc.status === 'rejected') {
      if (svc.reason instanceof SetupError) throw svc.reason;
      throw new SetupError(
        'checker',
        'SERVICES_FAILED',
        `Could not start Postgres/Redis/SMTP for the run: ${(svc.reason as Error).message}`,
      );
    }
    const services = svc.value;
    aborted();

    await rt.connect(services, drawRunVariables());
    aborted();
    opts.onProgress?.(
      rt.description.kind === 'container'
        ? 'Starting your app in its container...'
        : 'Starting your app...',
    );
    const primary = await rt.createInstance();
    const app = primary.app;
    opts.onAppStarting?.();
    await timed(opts.onTiming, 'setup.app', () => app.start(opts.signal));
    aborted();

    const { SandboxContext } = contextModule();
    const context = new SandboxContext({
      app,
      spawnInstance: (o) => spawnInstance(rt, services, o, opts.signal),
      db: services.db,
      redis: services.redis,
      mail: services.mail.sink,
      faults: services.faults,
      env: Object.freeze({ ...primary.env }),
    });
    stopApps = () => context.stopApps();
    return {
      context,
      runtime: rt.description,
      dispose,
      release,
      ensureAppRunning: () => context.ensureAppRunning(),
      afterCheck: () => context.afterCheck(),
      typeCheck: () => rt.typeCheck?.() ?? Promise.resolve(undefined),
    };
  } catch (e) {
    await dispose();
    if (e instanceof SetupError) throw e;
    throw new SetupError(
      'checker',
      'SETUP_FAILED',
      `The checker could not prepare the run: ${(e as Error).message}`,
    );
  }
}

/**
 * An extra instance (RunContext.startInstance): with `ownFaults`, fault proxies of its own to the
 * run's Postgres and Redis; with `ownRedisDatabase`, a Redis db index of its own (and an inspector
 * of it); `env` overrides.
 */
async function spawnInstance(
  rt: AppRuntime,
  services: Services,
  o: InstanceOptions,
  signal: AbortSignal | undefined,
): Promise<SpawnedInstance> {
  const proxies = o.ownFaults ? await services.startInstanceProxies() : undefined;
  const db = o.ownRedisDatabase ? services.claimRedisDatabase() : undefined;
  const own = db !== undefined ? services.redisInspector(db) : undefined;
  const redis: RedisInspector | undefined = o.ownRedisDatabase
    ? (own ?? { call: services.redis.call })
    : undefined;
  let instance: RuntimeInstance | undefined;
  const release = async (): Promise<void> => {
    await instance?.release();
    await proxies?.close();
    await own?.close();
  };
  try {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(o.env ?? {})) if (v !== undefined) env[k] = v;
    if (proxies) {
      env.DATABASE_URL = proxies.appDatabaseUrl;
      env.REDIS_URL = proxies.appRedisUrl;
    }
    if (db !== undefined) {
      const url = new URL(env.REDIS_URL ?? services.appRedisUrl);
      url.pathname = `/${db}`;
      env.REDIS_URL = url.toString();
    }
    instance = await rt.createInstance(env);
    await instance.app.start(signal);
    return {
      app: instance.app,
      env: instance.env,
      ...(proxies ? { faults: proxies.faults } : {}),
      ...(redis ? { redis } : {}),
      release,
    };
  } catch (e) {
    await instance?.app.kill().catch(() => undefined);
    await release().catch(() => undefined);
    throw e;
  }
}

/** Without an AbortSignal from the caller, Ctrl-C / SIGTERM dispose the run, then end the process as the signal would. */
function installSignalHandlers(dispose: () => Promise<void>): () => void {
  const handler = (sig: NodeJS.Signals): void => {
    void dispose().finally(() => {
      process.kill(process.pid, sig);
    });
  };
  const onInt = (): void => handler('SIGINT');
  const onTerm = (): void => handler('SIGTERM');
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  return () => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  };
}
