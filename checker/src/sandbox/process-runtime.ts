import { LogBuffer } from '../app/log-buffer';
import { appEnv, type RunVariables } from '../runtime/app-env';
import type {
  AppRuntime,
  RuntimeDescription,
  RuntimeHooks,
  RuntimeInstance,
} from '../runtime/app-runtime';
import { timed } from '../runner/timings';
import type { Services } from '../services/local-services';
import { freePort } from '../services/ports';
import type { Workspace } from '../workspace/workspace';
import type { TypeCheckResult } from '../results/types';
import { AppProcess } from './app-process';
import { createConfinedSandbox } from './confined-sandbox';
import { nodePrefix, removeViewScript, writeViewScript } from './filesystem-view';
import {
  buildContained,
  installContained,
  typeCheckContained,
  type ContainedSetup,
} from './contained-setup';
import {
  courseRootOrUndefined,
  hiddenFolders,
  planContainment,
  sweepContainedLeftovers,
} from './containment';
import { buildIfNeeded, installDependencies, typeCheckIfNeeded } from './install-and-build';
import { createAppSandbox, DISK_MAX_BYTES, type AppSandbox } from './limits';
import { createFence, fenceAvailable, type NetworkFence } from './network-fence';
import { makeRunDir, type RunDir } from './run-dir';
import { leaseRunUser, releaseRunUser, type RunUser } from './run-user';

const portOf = (url: string): number | undefined => {
  try {
    const p = Number(new URL(url).port);
    return p > 0 ? p : undefined;
  } catch {
    return undefined;
  }
};

/** The ports of the URLs among `values`. */
const portsOf = (values: string[]): number[] =>
  values.map(portOf).filter((p): p is number => p !== undefined);

/**
 * Process runtime. Contained (root): the workspace is copied into a private run dir owned by a
 * uid of the run's own; dependencies are fetched by npm without scripts; the packages' scripts,
 * the build and every app instance run as that uid, offline but for the run's own ports
 * (network-fence.ts), in cgroups, with the course hidden (confine.ts). Uncontained (an ordinary
 * user's own workspace): install, build and start in the workspace as the user, as ever.
 */
export function processAppRuntime(ws: Workspace, hooks: RuntimeHooks): AppRuntime {
  const plan = planContainment(ws.dir);
  const description: RuntimeDescription = plan.contained
    ? { kind: 'process', contained: true }
    : { kind: 'process', contained: false, reason: plan.reason };
  return plan.contained || plan.dropToRunUser
    ? runAsRunUser(ws, hooks, description)
    : runAsChecker(ws, hooks, description);
}

function runAsRunUser(
  ws: Workspace,
  hooks: RuntimeHooks,
  description: RuntimeDescription,
): AppRuntime {
  const cleanups: (() => Promise<void> | void)[] = [];
  let user: RunUser | undefined;
  let runDir: RunDir | undefined;
  let fence: NetworkFence | undefined;
  let runWs: Workspace | undefined;
  let bound: { services: Services; vars: RunVariables } | undefined;
  let viewScript = '';
  const typeChecked = backgroundTypeCheck(hooks);
  const sandbox = (offline = false, readOnly = !offline): AppSandbox => {
    if (!user || !runDir) throw new Error('the run has no sandbox yet');
    // Setup (install scripts, the build) writes into the run dir; the app and the type check only
    // into their private /tmp.
    return createConfinedSandbox({
      user,
      viewScript,
      home: readOnly ? '/tmp' : runDir.home,
      tmp: readOnly ? '/tmp' : runDir.tmp,
      offline,
      readOnlyRunDir: readOnly,
      ...(readOnly ? {} : { diskBudget: { dir: runDir.root, bytes: DISK_MAX_BYTES } }),
    });
  };
  return {
    description,
    async prepare() {
      const leased = await timed(hooks.onTiming, 'setup.contain', async () => {
        sweepContainedLeftovers();
        user = leaseRunUser();
        if (fenceAvailable()) fence = createFence(user.uid, []); // offline until connect()
        return user;
      });
      runDir = await timed(hooks.onTiming, 'setup.copy', async () =>
        makeRunDir(ws.dir, leased, courseRootOrUndefined()),
      );
      const dir = runDir;
      viewScript = writeViewScript(leased.uid, {
        show: [
          { path: dir.root, writable: 'setup' },
          { path: nodePrefix(), writable: false },
          ...dir.linked.map((p) => ({ path: p, writable: false })),
        ],
        hide: hiddenFolders(),
      });
      runWs = { ...ws, dir: runDir.appDir };
      const course = courseRootOrUndefined();
      const setup: ContainedSetup = {
        ws: runWs,
        user: leased,
        inputs: course ? [`${course}/tsconfig.base.json`, `${course}/package-lock.json`] : [],
        // install scripts, the build and the type check (which writes nothing): no network at all
        sandbox: (o) => sandbox(true, o?.readOnly === true),
        ...(hooks.onProgress ? { onProgress: hooks.onProgress } : {}),
        ...(hooks.signal ? { signal: hooks.signal } : {}),
      };
      await timed(hooks.onTiming, 'setup.install', () => installContained(setup));
      typeChecked.start((signal) => typeCheckContained(setup, signal));
      await timed(hooks.onTiming, 'setup.build', () => buildContained(setup));
    },
    typeCheck: typeChecked.result,
    async connect(services, vars) {
      bound = { services, vars };
      fence?.allow(...portsOf([services.appDatabaseUrl, services.appRedisUrl, services.mail.url]));
    },
    async createInstance(overrides = {}): Promise<RuntimeInstance> {
      if (!bound || !runWs) throw new Error('createInstance() before connect()');
      const port = await freePort();
      fence?.allow(port);
      const base = appEnv(bound.services, port, bound.vars);
      // Its port and its own services' (fault proxies): open while it lives, closed after, so
      // that the run's uid cannot reach whatever listens there next.
      const open = new Set(portsOf(Object.values(base)));
      const own = [...new Set(portsOf(Object.values(overrides)))].filter((p) => !open.has(p));
      fence?.allow(...own);
      const env = { ...base, ...overrides };
      const s = sandbox();
      const proc = new AppProcess({
        workspace: runWs,
        port,
        env,
        sandbox: s,
        logs: new LogBuffer(),
      });
      cleanups.push(() => s.dispose());
      cleanups.push(() => proc.kill());
      let released = false;
      return {
        app: proc,
        env,
        release: async () => {
          if (released) return;
          released = true;
          fence?.revoke(port, ...own);
        },
      };
    },
    async dispose() {
      await typeChecked.stop();
      for (const step of cleanups.splice(0).reverse())
        await Promise.resolve(step()).catch(() => undefined);
      if (user) releaseRunUser(user); // kills whatever the uid still runs
      if (user) removeViewScript(user.uid);
      fence?.dispose();
      await runDir?.dispose().catch(() => undefined);
      user = undefined;
    },
  };
}

function runAsChecker(
  ws: Workspace,
  hooks: RuntimeHooks,
  description: RuntimeDescription,
): AppRuntime {
  const cleanups: (() => Promise<void>)[] = [];
  let bound: { services: Services; vars: RunVariables } | undefined;
  const typeChecked = backgroundTypeCheck(hooks);
  return {
    description,
    async prepare() {
      await timed(hooks.onTiming, 'setup.install', () =>
        installDependencies(ws, hooks.onProgress, hooks.signal),
      );
      typeChecked.start((signal) => typeCheckIfNeeded(ws, signal));
      await timed(hooks.onTiming, 'setup.build', () =>
        buildIfNeeded(ws, hooks.onProgress, hooks.signal),
      );
    },
    typeCheck: typeChecked.result,
    async connect(services, vars) {
      bound = { services, vars };
    },
    async createInstance(overrides = {}): Promise<RuntimeInstance> {
      if (!bound) throw new Error('createInstance() before connect()');
      const port = await freePort();
      const sandbox = createAppSandbox(ws.dir);
      const env = { ...appEnv(bound.services, port, bound.vars), ...overrides };
      const proc = new AppProcess({ workspace: ws, port, env, sandbox, logs: new LogBuffer() });
      cleanups.push(async () => sandbox.dispose());
      cleanups.push(() => proc.kill());
      return { app: proc, env, release: async () => undefined };
    },
    async dispose() {
      await typeChecked.stop();
      for (const step of cleanups.splice(0).reverse()) await step().catch(() => undefined);
    },
  };
}

/**
 * The type check (hooks.typeCheck) that prepare() starts once the dependencies are in, beside the
 * build, the app's start and the checks: it decides nothing, so nothing waits for it but the
 * report. stop() (dispose) ends it and waits until it has: a run that ends early reports none and
 * leaves no tsc behind. result() never rejects.
 */
function backgroundTypeCheck(hooks: RuntimeHooks): {
  start(work: (signal: AbortSignal) => Promise<TypeCheckResult | undefined>): void;
  result(): Promise<TypeCheckResult | undefined>;
  stop(): Promise<void>;
} {
  const stopped = new AbortController();
  const signal = hooks.signal ? AbortSignal.any([hooks.signal, stopped.signal]) : stopped.signal;
  let running: Promise<TypeCheckResult | undefined> | undefined;
  return {
    start(work) {
      if (!hooks.typeCheck || stopped.signal.aborted) return;
      running = timed(hooks.onTiming, 'typecheck', () => work(signal)).catch(
        (e: unknown): TypeCheckResult => ({
          status: 'error',
          errorCount: 0,
          errors: [],
          message: `the type check could not run: ${e instanceof Error ? e.message : String(e)}`,
          durationMs: 0,
          cached: false,
        }),
      );
    },
    result: () => running ?? Promise.resolve(undefined),
    async stop() {
      stopped.abort();
      await running;
    },
  };
}
