import type { RunnableApp } from '../harness/context';
import type { Services } from '../services/local-services';
import type { RunVariables } from './app-env';
import type { RunRuntime, TypeCheckResult } from '../results/types';
import type { OnTiming } from '../runner/timings';

/** How the learner's code ran, as results record it (results/types.ts RunRuntime). */
export type RuntimeDescription = RunRuntime;

/** An app instance as its runtime made it. */
export interface RuntimeInstance {
  readonly app: RunnableApp;
  /** The env it starts with, as the app sees it (in a container: the relays' URLs); the checks see it too. */
  readonly env: Readonly<Record<string, string>>;
  /** Closes what createInstance() opened for its own `env` (fence ports, relays); call once the app is killed. */
  release(): Promise<void>;
}

/** What a runtime's setup steps report to and are stopped by. */
export interface RuntimeHooks {
  onProgress?: (message: string) => void;
  onTiming?: OnTiming;
  signal?: AbortSignal;
  /** Run the workspace's type check beside the checks (`sandbox check`; batch grading does not). */
  typeCheck?: boolean;
}

/**
 * Where and how the learner's app runs: the one seam between a run and its runtime
 * (`process`: sandbox/process-runtime.ts, `container`: runtime/container-app-runtime.ts).
 * Chosen once per run by createAppRuntime(); session.ts only calls these, in this order.
 */
export interface AppRuntime {
  readonly description: RuntimeDescription;
  /** Dependencies and build (runs while the services start). */
  prepare(): Promise<void>;
  /** Binds the runtime to the run's services: what the app may reach, the env it gets. */
  connect(services: Services, vars: RunVariables): Promise<void>;
  /**
   * A new app instance (not started); each has a port and a sandbox of its own. `env`: variables
   * that differ from the run's for this instance only, in host terms (URLs on 127.0.0.1 as the
   * services hand them out: the runtime lets the instance reach them, in a container through
   * relays of its own).
   */
  createInstance(env?: Record<string, string>): Promise<RuntimeInstance>;
  /**
   * The type check prepare() started (hooks.typeCheck), once it ends; undefined when it did not
   * run (not asked, no TypeScript or tsconfig.json in the workspace, or a runtime without it).
   */
  typeCheck?(): Promise<TypeCheckResult | undefined>;
  /** Kills and removes everything the runtime made; safe to call twice, and before prepare() ends. */
  dispose(): Promise<void>;
}
