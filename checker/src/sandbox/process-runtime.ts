import { LogBuffer } from '../app/log-buffer';
import type { RunnableApp } from '../harness/context';
import { appEnv, type RunVariables } from '../runtime/app-env';
import type { AppRuntime, RuntimeDescription, RuntimeHooks } from '../runtime/app-runtime';
import { timed } from '../runner/timings';
import type { Services } from '../services/local-services';
import { freePort } from '../services/ports';
import type { Workspace } from '../workspace/workspace';
import { AppProcess } from './app-process';
import { buildIfNeeded, installDependencies } from './install-and-build';
import { createAppSandbox } from './limits';

/** Process runtime: install and build on the host, each instance a process tree in its own sandbox on a fresh port. */
export function processAppRuntime(ws: Workspace, hooks: RuntimeHooks): AppRuntime {
  const description: RuntimeDescription = {
    kind: 'process',
    contained: false,
    reason:
      process.getuid?.() === 0
        ? 'install and build run as the checker’s user'
        : 'your own workspace, run as you',
  };
  const cleanups: (() => Promise<void>)[] = [];
  let bound: { services: Services; vars: RunVariables } | undefined;
  return {
    description,
    async prepare() {
      await timed(hooks.onTiming, 'setup.install', () =>
        installDependencies(ws, hooks.onProgress, hooks.signal),
      );
      await timed(hooks.onTiming, 'setup.build', () =>
        buildIfNeeded(ws, hooks.onProgress, hooks.signal),
      );
    },
    async connect(services, vars) {
      bound = { services, vars };
    },
    async createInstance(): Promise<RunnableApp> {
      if (!bound) throw new Error('createInstance() before connect()');
      const port = await freePort();
      const sandbox = createAppSandbox(ws.dir);
      const proc = new AppProcess({
        workspace: ws,
        port,
        env: appEnv(bound.services, port, bound.vars),
        sandbox,
        logs: new LogBuffer(),
      });
      cleanups.push(async () => sandbox.dispose());
      cleanups.push(() => proc.kill());
      return proc;
    },
    env: (primary) => (bound ? appEnv(bound.services, primary.port, bound.vars) : {}),
    async dispose() {
      for (const step of cleanups.splice(0).reverse()) await step().catch(() => undefined);
    },
  };
}
