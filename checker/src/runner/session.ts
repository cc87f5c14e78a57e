import { randomBytes } from 'node:crypto';
import { AppProcess } from '../app/app-process';
import { buildIfNeeded, installDependencies } from '../app/install-and-build';
import { createAppSandbox, type AppSandbox } from '../app/limits';
import { LogBuffer } from '../app/log-buffer';
import { SetupError } from '../app/setup-error';
import { readWorkspace, type Workspace } from '../app/workspace';
import type { RunContext } from '../harness/api';
import { SandboxContext, type RunnableApp } from '../harness/context';
import {
  buildWorkspaceImage,
  containerLimits,
  prepareContainerRuntime,
  type ContainerRuntime,
} from '../app/container-runtime';
import {
  containerServicesReady,
  ENGINE_SETUP_HINT,
  leaseContainerServices,
  resolveImages,
  useEngine,
} from '../services/containers';
import { startLocalServices, type Services } from '../services/local-services';
import { findWarmPostgres } from '../services/warm-postgres';
import { freePort } from '../services/ports';
import { timed, type OnTiming } from './timings';

export { SetupError };

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
}

export interface Run {
  context: RunContext;
  dispose(): Promise<void>;
  /** Before each check: restarts the primary app if a check left it stopped. */
  ensureAppRunning(): Promise<void>;
  /** After each check: stops extra instances, closes sockets, brings services back, clears mail faults. */
  afterCheck(): Promise<void>;
}

const randomSecret = (length: number): string =>
  randomBytes(length).toString('base64url').slice(0, length);

/** The variables of steps/CONTRACT.md, for an app on `port`. */
export function appEnv(
  services: Services,
  port: number,
  jwtSecret: string,
): Record<string, string> {
  return {
    PORT: String(port),
    DATABASE_URL: services.appDatabaseUrl,
    REDIS_URL: services.appRedisUrl,
    JWT_SECRET: jwtSecret,
    SMTP_URL: services.mail.url,
    MAIL_FROM: 'Sandbox <no-reply@sandbox.test>',
    PUBLIC_URL: `http://localhost:${port}`,
    JOB_BACKOFF_MS: '100',
    BCRYPT_COST: '10', // optional in the contract; the lowest cost the step 3 check accepts keeps grading fast
    WS_HEARTBEAT_MS: '500',
    NODE_ENV: 'production',
  };
}

/** The port the app listens on inside its container (ContainerApp sets PORT to it). */
const CONTAINER_APP_PORT = 3000;

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
  if (await findWarmPostgres()) return 'local';
  return (await containerServicesReady()) ? 'containers' : 'local';
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
    urls = { databaseUrl: lease.databaseUrl, redisUrl: lease.redisUrl };
  }
  const services = await startLocalServices({
    ...urls,
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.onTiming ? { onTiming: opts.onTiming } : {}),
  });
  cleanups.push(() => services.dispose());
  return services;
}

/** Makes the run's app instances (not started) and says what env the checks see. */
interface AppFactory {
  create(): Promise<RunnableApp>;
  envOf(primary: RunnableApp): Record<string, string>;
}

/** Process runtime: npm install/build on the host, each instance a process tree in its own sandbox (cgroups) on a fresh port. */
function processApps(
  ws: Workspace,
  services: Services,
  jwtSecret: string,
  cleanups: (() => Promise<void>)[],
): AppFactory {
  return {
    create: async () => {
      const port = await freePort();
      const sandbox: AppSandbox = createAppSandbox(ws.dir);
      const proc = new AppProcess({
        workspace: ws,
        port,
        env: appEnv(services, port, jwtSecret),
        sandbox,
        logs: new LogBuffer(),
      });
      cleanups.push(async () => sandbox.dispose());
      cleanups.push(() => proc.kill());
      return proc;
    },
    envOf: (primary) => appEnv(services, primary.port, jwtSecret),
  };
}

/** Container runtime: the workspace image on the run's private network; each instance a container of its own. */
async function containerApps(
  ws: Workspace,
  image: string,
  services: Services,
  jwtSecret: string,
  opts: RunOptions,
  cleanups: (() => Promise<void>)[],
): Promise<AppFactory> {
  const runtime: ContainerRuntime = await prepareContainerRuntime({
    workspace: ws.dir,
    image,
    env: appEnv(services, CONTAINER_APP_PORT, jwtSecret),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
  cleanups.push(() => runtime.dispose());
  return {
    create: async () => runtime.createApp(new LogBuffer()),
    envOf: () => ({ ...runtime.env }),
  };
}

/** Container runtime: npm ci and the build run inside an image build, never on the host. */
async function buildImage(ws: Workspace, opts: RunOptions): Promise<string> {
  await useEngine().catch((e: Error) => {
    throw new SetupError('checker', 'NO_ENGINE', e.message);
  });
  return buildWorkspaceImage(ws.dir, {
    images: resolveImages(),
    limits: containerLimits(),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
}

/** Prepares one run: services, install/build, the app; everything is disposed on failure, abort, SIGINT/SIGTERM. */
export async function prepareRun(opts: RunOptions): Promise<Run> {
  const ws: Workspace = readWorkspace(opts.workspace);
  const cleanups: (() => Promise<void>)[] = [];
  let disposing: Promise<void> | undefined;
  const dispose = (): Promise<void> => {
    disposing ??= (async () => {
      removeSignalHandlers();
      opts.signal?.removeEventListener('abort', onAbort);
      for (const step of cleanups.splice(0).reverse()) await step().catch(() => undefined);
    })();
    return disposing;
  };
  const onAbort = (): void => void dispose();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const removeSignalHandlers = opts.signal ? () => undefined : installSignalHandlers(dispose);
  const aborted = (): void => {
    if (opts.signal?.aborted || disposing)
      throw new SetupError('checker', 'ABORTED', 'The run was interrupted.');
  };

  try {
    const mode = await chooseServices(opts);
    const inContainer = opts.runtime === 'container';
    const servicesP = timed(opts.onTiming, 'setup.services', () =>
      startServices(opts, mode, cleanups),
    );
    const buildP = inContainer
      ? timed(opts.onTiming, 'setup.build', () => buildImage(ws, opts))
      : (async () => {
          await timed(opts.onTiming, 'setup.install', () =>
            installDependencies(ws, opts.onProgress, opts.signal),
          );
          await timed(opts.onTiming, 'setup.build', () =>
            buildIfNeeded(ws, opts.onProgress, opts.signal),
          );
          return undefined;
        })();
    const [svc, build] = await Promise.allSettled([servicesP, buildP]);
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

    const jwtSecret = randomSecret(48);
    const apps = build.value
      ? await containerApps(ws, build.value, services, jwtSecret, opts, cleanups)
      : processApps(ws, services, jwtSecret, cleanups);
    aborted();
    opts.onProgress?.(
      inContainer ? 'Starting your app in its container...' : 'Starting your app...',
    );
    const app = await apps.create();
    await timed(opts.onTiming, 'setup.app', () => app.start(opts.signal));
    aborted();

    const context = new SandboxContext({
      app,
      spawnInstance: async () => {
        const instance = await apps.create();
        await instance.start(opts.signal);
        return instance;
      },
      db: services.db,
      redis: services.redis,
      mail: services.mail.sink,
      faults: services.faults,
      env: Object.freeze(apps.envOf(app)),
    });
    cleanups.push(() => context.stopApps());
    return {
      context,
      dispose,
      ensureAppRunning: () => context.ensureAppRunning(),
      afterCheck: () => context.afterCheck(),
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
