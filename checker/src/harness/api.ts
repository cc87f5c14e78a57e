/**
 * What a step's checks see. The checker (run controller) implements these interfaces;
 * the checks in `steps/NN-slug/checks/*.check.ts` use them through `@sandbox/harness`.
 * Checks are black-box: they talk HTTP/WebSocket to the app and only READ Postgres,
 * Redis and the mail sink.
 */

/** Metadata every check declares. */
export interface CheckMeta {
  /** Points awarded when the check passes (partial credit is per check). */
  points: number;
  /** What to try when the check fails, in plain words, pointing at the lesson. */
  hint: string;
  /** Per-check timeout in ms (default 15000). */
  timeoutMs?: number;
  /**
   * true: the check may run alongside other concurrent checks. Declare it only when the check
   * sends requests as users it created itself, reads only their own rows, keys, sockets and
   * emails, sets mail-sink faults only for their addresses (`setFaults({ to })`), and kills,
   * restarts or signals only instances it started itself (`startInstance()`, stopped by the
   * check with `stop()` or `kill()` when it ends).
   * Default (absent or false): the check runs alone, as every check that stops Postgres or
   * Redis, kills, restarts or signals the primary app (`sandbox().app`), sets mail-sink faults
   * for every email, measures time where the load of other checks could hide a fault (a timing
   * comparison), shares a limit with other checks (the login rate limit), or reads global state
   * ("the only email", every key, every job). A concurrent check that does not pass is run
   * again alone, unless its failure is definite (CheckFailure's `definite`): one that no other
   * check could have caused.
   */
  concurrent?: boolean;
  /**
   * true: the check leaves the primary app stopped (it runs alone). It runs after every other
   * check that runs alone, so the app is not restarted for nothing.
   */
  stopsApp?: boolean;
}

/** One HTTP request as sent, kept so failures can show it. */
export interface SentRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** The body as sent (text), if any. */
  body?: string;
}

export interface ReceivedResponse {
  status: number;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** Raw body text (truncated to 64 kB for display). */
  text: string;
  /** Parsed JSON, or undefined when the body is not JSON. */
  json: unknown;
}

/** A request and what came back; assertions print both on failure. */
export interface Exchange {
  request: SentRequest;
  response: ReceivedResponse;
  durationMs: number;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** Sent as JSON (sets Content-Type: application/json). */
  json?: unknown;
  /** Sent verbatim (set the Content-Type yourself). */
  raw?: string | Buffer;
  /** Bearer token shortcut: sets Authorization. */
  token?: string;
  /** ms before the request is abandoned with a clear failure (default 5000). */
  timeoutMs?: number;
  /**
   * Requests given one gate (`together()`) start together: each connects and sends all but the
   * last byte of its body, and the last bytes go out at once when every one of them is that far,
   * so the app handles them side by side however loaded the machine is (a race shows every time).
   */
  gate?: StartGate;
}

/** See RequestOptions.gate and together(). */
export interface StartGate {
  /** Resolves once every request of the gate has arrived (or failed to). */
  arrive(): Promise<void>;
}

export interface HttpClient {
  request(method: string, path: string, opts?: RequestOptions): Promise<Exchange>;
  get(path: string, opts?: RequestOptions): Promise<Exchange>;
  post(path: string, opts?: RequestOptions): Promise<Exchange>;
  patch(path: string, opts?: RequestOptions): Promise<Exchange>;
  delete(path: string, opts?: RequestOptions): Promise<Exchange>;
}

export interface WsMessage {
  /** Parsed JSON (undefined when not JSON). */
  json: unknown;
  text: string;
  at: number;
}

export interface WsConnection {
  /** Every message received so far, in order. */
  readonly messages: WsMessage[];
  /** Resolves with the first message (already received or future) matching pred; rejects after timeoutMs. */
  waitFor(pred: (m: WsMessage) => boolean, timeoutMs?: number): Promise<WsMessage>;
  /** Resolves with the close code once closed; rejects after timeoutMs. */
  waitForClose(timeoutMs?: number): Promise<number>;
  readonly closed: boolean;
  close(): void;
}

export interface WsConnectOptions {
  /** Answer server pings automatically (default true). false simulates a dead peer. */
  autoPong?: boolean;
  timeoutMs?: number;
}

export type WsConnectResult =
  | { ok: true; socket: WsConnection }
  /** The upgrade was refused: the HTTP status and body of the refusal (status 0 = connection dropped). */
  | { ok: false; status: number; body: string };

export interface AppExit {
  code: number | null;
  signal: string | null;
}

/** A running instance of the learner's app. */
export interface AppInstance {
  readonly url: string;
  readonly wsUrl: string;
  readonly port: number;
  readonly http: HttpClient;
  ws(pathAndQuery: string, opts?: WsConnectOptions): Promise<WsConnectResult>;
  /** Sends a signal to the app's process (the npm start tree's app process). */
  signal(sig: NodeJS.Signals): void;
  /** Resolves with the exit once the process has exited, or null after timeoutMs. */
  waitForExit(timeoutMs: number): Promise<AppExit | null>;
  /** SIGKILL the whole process tree, now. */
  kill(): Promise<void>;
  /**
   * SIGTERM, then kill() once it has exited or after `graceMs` (default 3000): an instance
   * stopped this way finishes the jobs in its hands instead of leaving them to their lock's
   * expiry, where other checks' jobs would wait.
   */
  stop(graceMs?: number): Promise<void>;
  /** (Re)start the same instance on the same port; resolves when it answers. */
  restart(): Promise<void>;
  readonly running: boolean;
  /** The last lines of the app's stdout+stderr. */
  logs(): string;
  /** The environment this instance was started with (the primary's, but for its own PORT, services and `env` overrides). */
  readonly env: Readonly<Record<string, string>>;
}

/** Run variables an instance may be given other values of (`startInstance({ env })`). */
export type InstanceVariable = 'VERIFY_TOKEN_TTL_SECONDS' | 'JOB_BACKOFF_MS' | 'WS_HEARTBEAT_MS';

export interface InstanceOptions {
  /**
   * Fault proxies of its own in front of the run's same Postgres database and Redis: its `faults`
   * stop or hang them for this instance alone, while the primary and every other instance keep
   * being served. They are closed when the check's instances are (after the check).
   */
  ownFaults?: boolean;
  /**
   * Its REDIS_URL selects a Redis database of its own on the run's Redis server: the BullMQ jobs it
   * queues are run by its own worker only (with its own `env`), its workers never take the jobs of
   * the others, its cache keys and counts are its own; its `redis` reads that database, and
   * `sandbox().redis` does not see it (pub/sub channels are shared all the same). Where the run's
   * Redis server is shared with other runs (one database each), it gets the primary's database.
   */
  ownRedisDatabase?: boolean;
  /** Values that differ from the primary's for this instance only, e.g. a shorter VERIFY_TOKEN_TTL_SECONDS. */
  env?: Partial<Record<InstanceVariable, string>>;
}

/** What `ownFaults` adds to an instance: toggles of its own for Postgres and Redis. */
export interface OwnFaults {
  readonly faults: { readonly database: ServiceToggle; readonly redis: ServiceToggle };
}

/** What `ownRedisDatabase` adds to an instance: read-only access to the Redis database it uses. */
export interface OwnRedisDatabase {
  readonly redis: RedisInspector;
}

/** The instance startInstance(opts) resolves with. */
export type StartedInstance<O extends InstanceOptions> = AppInstance &
  (O extends { ownFaults: true } ? OwnFaults : unknown) &
  (O extends { ownRedisDatabase: true } ? OwnRedisDatabase : unknown);

export interface ServiceToggle {
  /** Make the service unreachable for the app (connections refused, open ones cut). */
  down(): Promise<void>;
  /**
   * Make the service hang: connections are accepted but nothing is answered, and open
   * connections stop answering (a wedged server; timeouts are the only way out).
   */
  hang(): Promise<void>;
  /** Make it reachable again (after hang(), the frozen connections are cut first). */
  up(): Promise<void>;
}

export interface MailMessage {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html?: string;
  receivedAt: number;
}

/** A delivery attempt the sink refused (fault injection): when it began (MAIL FROM) and for whom. */
export interface RefusedAttempt {
  at: number;
  to: string[];
}

export interface MailSink {
  /** Messages delivered (accepted) so far in this run, in order. */
  messages(): MailMessage[];
  /** Resolves with the first delivered message matching pred; rejects after timeoutMs. */
  waitFor(pred: (m: MailMessage) => boolean, timeoutMs?: number): Promise<MailMessage>;
  /**
   * Fault injection: delay every SMTP transaction, refuse the next N attempts (4xx). With `to`,
   * only the transactions addressed to that recipient: a check that sets faults for its own
   * users' addresses leaves every other email alone, and may run beside other checks.
   */
  setFaults(f: { delayMs?: number; refuseNext?: number; to?: string }): void;
  /** Number of delivery attempts refused so far. */
  refusedCount(): number;
  /** Every refused attempt so far, in order (gaps between them show the retry backoff). */
  refusedAttempts(): RefusedAttempt[];
  /** SMTP connections opened to the sink so far in this run, whatever came of them. */
  connections(): number;
}

/** Read-only access to the run's own Postgres database. */
export interface DbInspector {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

/** Read-only access to the run's own Redis. */
export interface RedisInspector {
  /** Runs a read-only command (KEYS/SCAN/GET/TTL/PTTL/TYPE/HGETALL/...). */
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
}

export interface RunContext {
  /** The primary app instance (kept running between checks; restarted automatically if a check left it stopped). */
  readonly app: AppInstance;
  /**
   * Starts another instance of the same app with the same services: a second instance beside
   * the primary (fan-out), or one to kill, restart or signal while the primary keeps serving the
   * checks beside it; with `ownFaults`, one whose Postgres or Redis a check stops or hangs while
   * the others keep theirs. Stopped after the check (and its own proxies closed); a concurrent
   * check stops it itself (`stop()` or `kill()`).
   */
  startInstance<O extends InstanceOptions = Record<never, never>>(
    opts?: O,
  ): Promise<StartedInstance<O>>;
  readonly db: DbInspector;
  readonly redis: RedisInspector;
  readonly mail: MailSink;
  /** Takes Postgres or Redis away from every app of the run (a check that uses them runs alone). */
  readonly faults: { readonly database: ServiceToggle; readonly redis: ServiceToggle };
  /** The environment the app was started with (JWT_SECRET, PUBLIC_URL, JOB_BACKOFF_MS, WS_HEARTBEAT_MS...). */
  readonly env: Readonly<Record<string, string>>;
  /** A fresh random token for unique test data: `unique('user')` -> 'user-k3j9x2'. */
  unique(prefix: string): string;
}
