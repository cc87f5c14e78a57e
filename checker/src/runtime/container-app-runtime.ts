import { randomBytes } from 'node:crypto';
import { LogBuffer } from '../app/log-buffer';
import { SetupError } from '../app/setup-error';
import {
  buildWorkspaceImage,
  containerLimits,
  engine,
  firewallAvailable,
  holdImage,
  prepareContainerRuntime,
  resolveImages,
  useEngine,
  type ContainerRuntime,
} from '../engine';
import { timed } from '../runner/timings';
import type { Workspace } from '../workspace/workspace';
import { appEnv } from './app-env';
import type { AppRuntime, RuntimeDescription, RuntimeHooks } from './app-runtime';

/**
 * The build stages and the app run in containers (engine/): contained, as long as the host can be
 * firewalled from their networks (iptables, as root); otherwise they could reach this machine's services.
 */
export function containerDescription(): RuntimeDescription {
  return firewallAvailable()
    ? {
        kind: 'container',
        contained: true,
        reason: 'build (no network) and app (uid 10001, internal network) in containers',
      }
    : {
        kind: 'container',
        contained: false,
        reason:
          'iptables is not usable here, so the build and app containers could reach services on this machine',
      };
}

/** `--runtime container`: npm ci and the build in an image build; each instance a container on the run's private network. */
export function containerAppRuntime(ws: Workspace, hooks: RuntimeHooks): AppRuntime {
  let image: string | undefined;
  let runtime: ContainerRuntime | undefined;
  let hold: { release(): Promise<void> } | undefined;
  let disposed = false;
  const build = (): Promise<string> =>
    buildWorkspaceImage(ws.dir, {
      images: resolveImages(),
      limits: containerLimits(),
      ...(hooks.signal ? { signal: hooks.signal } : {}),
      ...(hooks.onProgress ? { onProgress: hooks.onProgress } : {}),
    });
  return {
    description: containerDescription(),
    async prepare() {
      await useEngine().catch((e: Error) => {
        throw new SetupError('checker', 'NO_ENGINE', e.message);
      });
      const docker = await engine();
      const holdId = `hold-${randomBytes(4).toString('hex')}`;
      image = await timed(hooks.onTiming, 'setup.build', async () => {
        // A concurrent run's cache prune may remove the image between its build (or reuse) and
        // the hold: then it is built once more, and held at once.
        for (let attempt = 1; ; attempt++) {
          const built = await build();
          hold = await holdImage(docker, built, holdId);
          if (hold || attempt === 2) return built;
        }
      });
      if (disposed) await hold?.release();
    },
    async connect(services, vars) {
      if (!image) throw new Error('connect() before prepare()');
      runtime = await prepareContainerRuntime({
        workspace: ws.dir,
        image,
        env: appEnv(services, vars.containerPort, vars),
        ...(hooks.onProgress ? { onProgress: hooks.onProgress } : {}),
      });
      if (disposed) await runtime.dispose();
    },
    async createInstance(overrides) {
      if (!runtime) throw new Error('createInstance() before connect()');
      if (overrides && Object.keys(overrides).length > 0)
        return runtime.createAppWith(overrides, new LogBuffer());
      return {
        app: runtime.createApp(new LogBuffer()),
        env: { ...runtime.env },
        release: async () => undefined,
      };
    },
    async dispose() {
      disposed = true;
      await runtime?.dispose();
      await hold?.release();
    },
  };
}
