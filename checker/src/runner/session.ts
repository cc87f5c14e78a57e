import { randomBytes } from 'node:crypto';
import { AppProcess } from '../app/app-process';
import { buildIfNeeded, installDependencies } from '../app/install-and-build';
import { createAppSandbox, type AppSandbox } from '../app/limits';
import { LogBuffer } from '../app/log-buffer';
import { SetupError } from '../app/setup-error';
import { readWorkspace, type Workspace } from '../app/workspace';
import type { RunContext } from '../harness/api';
import { SandboxContext } from '../harness/context';
import { startLocalServices, type Services } from '../services/local-services';
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

const randomSecret = (length: number): string => randomBytes(length).toString('base64url').slice(0, length);

/** The variables of steps/CONTRACT.md, for an app on `port`. */
export function appEnv(services: Services, port: number, jwtSecret: string): Record<string, string> {
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

function chooseServices(opts: RunOptions): void {
  if (opts.services === 'containers' || opts.runtime === 'container')
    throw new SetupError('checker', 'CONTAINERS_NOT_AVAILABLE', 'Container mode is not wired into this checker build yet: use --services local (the default).');
}

/** Prepares one run: services, install/build, the app; everything is disposed on failure, abort, SIGINT/SIGTERM. */
export async function prepareRun(opts: RunOptions): Promise<Run> {
  chooseServices(opts);
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
    if (opts.signal?.aborted || disposing) throw new SetupError('checker', 'ABORTED', 'The run was interrupted.');
  };

  try {
    const servicesP = timed(opts.onTiming, 'setup.services', () => startLocalServices({
      ...(opts.databaseUrl ?? process.env.SANDBOX_DATABASE_URL ? { databaseUrl: opts.databaseUrl ?? process.env.SANDBOX_DATABASE_URL } : {}),
      ...(opts.redisUrl ?? process.env.SANDBOX_REDIS_URL ? { redisUrl: opts.redisUrl ?? process.env.SANDBOX_REDIS_URL } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      ...(opts.onTiming ? { onTiming: opts.onTiming } : {}),
    })).then((s) => {
      cleanups.push(() => s.dispose());
      return s;
    });
    const buildP = (async () => {
      await timed(opts.onTiming, 'setup.install', () => installDependencies(ws, opts.onProgress, opts.signal));
      await timed(opts.onTiming, 'setup.build', () => buildIfNeeded(ws, opts.onProgress, opts.signal));
    })();
    const [svc, build] = await Promise.allSettled([servicesP, buildP]);
    if (build.status === 'rejected') throw build.reason;
    if (svc.status === 'rejected')
      throw new SetupError('checker', 'SERVICES_FAILED', `Could not start Postgres/Redis/SMTP for the run: ${(svc.reason as Error).message}`);
    const services = svc.value;
    aborted();

    const jwtSecret = randomSecret(48);
    // Each app process gets its own sandbox (cgroups), so killing one instance never touches another.
    const create = (port: number, logs: LogBuffer): AppProcess => {
      const sandbox: AppSandbox = createAppSandbox(ws.dir);
      const proc = new AppProcess({ workspace: ws, port, env: appEnv(services, port, jwtSecret), sandbox, logs });
      cleanups.push(async () => sandbox.dispose());
      cleanups.push(() => proc.kill());
      return proc;
    };
    const launch = async (port: number): Promise<AppProcess> => {
      const proc = create(port, new LogBuffer());
      await proc.start(opts.signal);
      return proc;
    };
    opts.onProgress?.('Starting your app...');
    const port = await freePort();
    const app = create(port, new LogBuffer());
    await timed(opts.onTiming, 'setup.app', () => app.start(opts.signal));
    aborted();

    const context = new SandboxContext({
      app,
      spawnInstance: async () => launch(await freePort()),
      db: services.db,
      redis: services.redis,
      mail: services.mail.sink,
      faults: services.faults,
      env: Object.freeze(appEnv(services, port, jwtSecret)),
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
    throw new SetupError('checker', 'SETUP_FAILED', `The checker could not prepare the run: ${(e as Error).message}`);
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
