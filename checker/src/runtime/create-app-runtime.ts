import { processAppRuntime } from '../sandbox/process-runtime';
import type { Workspace } from '../workspace/workspace';
import type { AppRuntime, RuntimeHooks } from './app-runtime';
import { containerAppRuntime } from './container-app-runtime';

/** The run's runtime, chosen once: `container` builds an image and runs containers, `process` (default) runs processes in the sandbox. */
export function createAppRuntime(
  kind: 'process' | 'container' | undefined,
  ws: Workspace,
  hooks: RuntimeHooks,
): AppRuntime {
  return kind === 'container' ? containerAppRuntime(ws, hooks) : processAppRuntime(ws, hooks);
}
