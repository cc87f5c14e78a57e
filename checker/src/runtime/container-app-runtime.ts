import {
  buildWorkspaceImage,
  containerLimits,
  prepareContainerRuntime,
  type ContainerRuntime,
} from '../app/container-runtime';
import { LogBuffer } from '../app/log-buffer';
import { SetupError } from '../app/setup-error';
import { timed } from '../runner/timings';
import { resolveImages, useEngine } from '../services/containers';
import type { Workspace } from '../workspace/workspace';
import { appEnv } from './app-env';
import type { AppRuntime, RuntimeDescription, RuntimeHooks } from './app-runtime';

/** The port the app listens on inside its container (ContainerApp sets PORT to it). */
const CONTAINER_APP_PORT = 3000;

/** Until the image build is contained like the app container (issue 8), a container run is not fully contained. */
export const CONTAINER_DESCRIPTION: RuntimeDescription = Object.freeze({
  kind: 'container',
  contained: false,
  reason: 'the image build (npm ci, npm run build) runs without the app container’s fence',
});

/** `--runtime container`: npm ci and the build in an image build; each instance a container on the run's private network. */
export function containerAppRuntime(ws: Workspace, hooks: RuntimeHooks): AppRuntime {
  let image: string | undefined;
  let runtime: ContainerRuntime | undefined;
  let disposed = false;
  return {
    description: CONTAINER_DESCRIPTION,
    async prepare() {
      await useEngine().catch((e: Error) => {
        throw new SetupError('checker', 'NO_ENGINE', e.message);
      });
      image = await timed(hooks.onTiming, 'setup.build', () =>
        buildWorkspaceImage(ws.dir, {
          images: resolveImages(),
          limits: containerLimits(),
          ...(hooks.onProgress ? { onProgress: hooks.onProgress } : {}),
        }),
      );
    },
    async connect(services, jwtSecret) {
      if (!image) throw new Error('connect() before prepare()');
      runtime = await prepareContainerRuntime({
        workspace: ws.dir,
        image,
        env: appEnv(services, CONTAINER_APP_PORT, jwtSecret),
        ...(hooks.onProgress ? { onProgress: hooks.onProgress } : {}),
      });
      if (disposed) await runtime.dispose();
    },
    async createInstance() {
      if (!runtime) throw new Error('createInstance() before connect()');
      return runtime.createApp(new LogBuffer());
    },
    env: () => ({ ...(runtime?.env ?? {}) }),
    async dispose() {
      disposed = true;
      await runtime?.dispose();
    },
  };
}
