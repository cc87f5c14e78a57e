import { processAppRuntime } from '../sandbox/process-runtime';
import type { Workspace } from '../workspace/workspace';
import type { AppRuntime, RuntimeHooks } from './app-runtime';

/** The run's runtime, chosen once: `container` builds an image and runs containers, `process` (default) runs processes in the sandbox. */
export function createAppRuntime(
  kind: 'process' | 'container' | undefined,
  ws: Workspace,
  hooks: RuntimeHooks,
): AppRuntime {
  if (kind !== 'container') return processAppRuntime(ws, hooks);
  // Loaded only here: the engine's client takes about half a second to load, and a process run never needs it.
  const { containerAppRuntime } =
    require('./container-app-runtime') as typeof import('./container-app-runtime');
  return containerAppRuntime(ws, hooks);
}
