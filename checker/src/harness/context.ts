import { randomBytes } from 'node:crypto';
import type {
  AppExit,
  AppInstance,
  DbInspector,
  InstanceOptions,
  RedisInspector,
  RunContext,
  ServiceToggle,
  StartedInstance,
  WsConnection,
} from './api';
import type { LogBuffer } from '../app/log-buffer';
import type { SandboxMailSink } from '../services/mail-sink';
import { createHttpClient } from './http';
import { connectWs } from './ws';

/** What an app instance runs on: a process on the host (AppProcess) or a container (ContainerApp). */
export interface RunnableApp {
  /** Where the checker reaches the app: 127.0.0.1 for a process, the container's address on its network. */
  readonly host?: string;
  readonly port: number;
  readonly running: boolean;
  readonly logs: LogBuffer;
  start(signal?: AbortSignal): Promise<void>;
  signal(sig: NodeJS.Signals): void;
  waitForExit(timeoutMs: number): Promise<AppExit | null>;
  kill(): Promise<void>;
}

/** How long stop() waits after SIGTERM before it kills. */
const DEFAULT_STOP_GRACE_MS = 3000;

/** An AppInstance over a started app; its WebSockets are tracked so they can be closed after each check. */
export function createAppInstance(
  app: RunnableApp,
  sockets: Set<WsConnection>,
  env: Readonly<Record<string, string>>,
  own: Pick<SpawnedInstance, 'faults' | 'redis'> = {},
): AppInstance {
  const host = app.host || '127.0.0.1';
  const url = `http://${host}:${app.port}`;
  const wsUrl = `ws://${host}:${app.port}`;
  return {
    url,
    wsUrl,
    port: app.port,
    http: createHttpClient(url),
    ws: (pathAndQuery, opts) =>
      connectWs(new URL(pathAndQuery, wsUrl).toString(), opts, (c) => sockets.add(c)),
    signal: (sig) => app.signal(sig),
    waitForExit: (ms): Promise<AppExit | null> => app.waitForExit(ms),
    kill: () => app.kill(),
    stop: async (graceMs = DEFAULT_STOP_GRACE_MS) => {
      if (app.running) {
        app.signal('SIGTERM');
        await app.waitForExit(graceMs);
      }
      await app.kill();
    },
    restart: async () => {
      await app.kill();
      await app.start();
    },
    get running() {
      return app.running;
    },
    logs: () => app.logs.tail(),
    env,
    ...(own.faults ? { faults: own.faults } : {}),
    ...(own.redis ? { redis: own.redis } : {}),
  };
}

/** An extra instance as the run started it: the app, its env, its own faults, and what closes them. */
export interface SpawnedInstance {
  app: RunnableApp;
  env: Readonly<Record<string, string>>;
  faults?: { database: ServiceToggle; redis: ServiceToggle };
  /** With ownRedisDatabase: the database its REDIS_URL selects. */
  redis?: RedisInspector;
  /** Closes its own proxies, relays, fence ports and inspector; after the app is killed. */
  release(): Promise<void>;
}

export interface ContextParts {
  app: RunnableApp;
  /** Starts one more app (a process on a fresh port, or a container on the run's network) with the same services. */
  spawnInstance(opts: InstanceOptions): Promise<SpawnedInstance>;
  db: DbInspector;
  redis: RedisInspector;
  mail: SandboxMailSink;
  faults: { database: ServiceToggle; redis: ServiceToggle };
  env: Readonly<Record<string, string>>;
}

/** How long an idle app may take to answer the liveness probe between checks (generous: loaded machines). */
const LIVENESS_TIMEOUT_MS = 3000;

/** Any HTTP answer (even a 404 or a 503) means the app is alive and its event loop turns. */
async function answersHttp(app: AppInstance, timeoutMs: number): Promise<boolean> {
  try {
    await app.http.get('/health', { timeoutMs });
    return true;
  } catch {
    return false;
  }
}

/** The RunContext checks see, plus the hooks the grading runner calls around each check. */
export class SandboxContext implements RunContext {
  readonly app: AppInstance;
  readonly db: DbInspector;
  readonly redis: RedisInspector;
  readonly mail: SandboxMailSink;
  readonly faults: { readonly database: ServiceToggle; readonly redis: ServiceToggle };
  readonly env: Readonly<Record<string, string>>;
  private readonly sockets = new Set<WsConnection>();
  private readonly extra: SpawnedInstance[] = [];

  constructor(private readonly parts: ContextParts) {
    this.app = createAppInstance(parts.app, this.sockets, parts.env);
    this.db = parts.db;
    this.redis = parts.redis;
    this.mail = parts.mail;
    this.faults = parts.faults;
    this.env = parts.env;
  }

  async startInstance<O extends InstanceOptions>(opts?: O): Promise<StartedInstance<O>> {
    const spawned = await this.parts.spawnInstance(opts ?? {});
    this.extra.push(spawned);
    const env = Object.freeze({ ...spawned.env });
    // The options decide which of faults and redis it has (StartedInstance<O>).
    return createAppInstance(spawned.app, this.sockets, env, spawned) as StartedInstance<O>;
  }

  unique(prefix: string): string {
    return `${prefix}-${randomBytes(4)
      .toString('base64url')
      .toLowerCase()
      .replace(/[^a-z0-9]/g, 'x')}`;
  }

  /**
   * Before a check: the primary app is up AND answers HTTP. A previous check may have stopped it,
   * made it exit (its exit event can arrive after the check already failed on the dropped
   * connection) or wedged its event loop; in each case it is killed (a no-op when gone) and restarted.
   */
  async ensureAppRunning(): Promise<void> {
    if (this.parts.app.running && (await answersHttp(this.app, LIVENESS_TIMEOUT_MS))) return;
    await this.parts.app.kill();
    await this.parts.app.start();
  }

  /** After a check: extra instances and sockets gone, services back up, mail faults cleared. */
  async afterCheck(): Promise<void> {
    for (const s of this.sockets) s.close();
    this.sockets.clear();
    const extra = this.extra.splice(0);
    await Promise.all([
      ...extra.map(async (p) => {
        await p.app.kill();
        await p.release();
      }),
      this.faults.database.up(),
      this.faults.redis.up(),
    ]);
    this.mail.clearFaults();
  }

  /** Stops every app of the run. */
  async stopApps(): Promise<void> {
    await this.afterCheck().catch(() => undefined);
    await this.parts.app.kill();
  }
}
