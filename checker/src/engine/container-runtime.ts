import { randomBytes } from 'node:crypto';
import { SetupError } from '../app/setup-error';
import type { LogBuffer } from '../app/log-buffer';
import { engine, useEngine } from './client';
import { ContainerApp } from './app-container';
import { buildWorkspaceImage } from './build/build-image';
import { imageCacheCaps } from './build/image-cache';
import { resolveImages, type SandboxImages } from './images';
import { LABEL_RUN } from './labels';
import { containerLimits, type ContainerLimits } from './limits';
import { createNetwork } from './network';
import { relayUrl, type Relay } from './relay';

/** One run's container runtime: the image, the private network, the relays to the host services. */
export interface ContainerRuntime {
  readonly runId: string;
  readonly image: string;
  readonly network: string;
  readonly limits: ContainerLimits;
  /** The app's env with host-local service URLs pointed at this run's relays. */
  readonly env: Record<string, string>;
  /** A new app container (not started) on the run's network, sharing `logs` if given. */
  createApp(logs?: LogBuffer): ContainerApp;
  /**
   * An app container whose env differs from the run's by `overrides` (host terms: host-local URLs
   * get relays of their own, open to the run's network until release()).
   */
  createAppWith(
    overrides: Record<string, string>,
    logs?: LogBuffer,
  ): Promise<{ app: ContainerApp; env: Record<string, string>; release(): Promise<void> }>;
  dispose(): Promise<void>;
}

export interface ContainerRuntimeOptions {
  workspace: string;
  /** The env the app would get in process mode (URLs on 127.0.0.1, as the services hand them out). */
  env: Record<string, string>;
  runId?: string;
  images?: SandboxImages;
  limits?: ContainerLimits;
  onProgress?: (message: string) => void;
  /** The workspace image, when the caller built it already (buildWorkspaceImage). */
  image?: string;
  /** The run's stop (its --timeout, Ctrl-C), for the build. */
  signal?: AbortSignal;
}

/**
 * Prepares `--runtime container`: builds the workspace image (build/), creates an internal network,
 * and relays the app's Postgres/Redis/SMTP URLs (host ports, e.g. the fault proxies and the mail
 * sink) through the network's gateway. The app reaches nothing else.
 */
export async function prepareContainerRuntime(
  opts: ContainerRuntimeOptions,
): Promise<ContainerRuntime> {
  await useEngine().catch((e: Error) => {
    throw new SetupError('checker', 'NO_ENGINE', e.message);
  });
  const runId = opts.runId ?? `run-${randomBytes(4).toString('hex')}`;
  const images = opts.images ?? resolveImages();
  const limits = opts.limits ?? containerLimits();
  const docker = await engine();
  const image =
    opts.image ??
    (await buildWorkspaceImage(opts.workspace, {
      images,
      limits,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    }));
  const network = await createNetwork(docker, `sandbox-${runId}`, runId, { internal: true });
  const relays: Relay[] = [];
  const apps: ContainerApp[] = [];
  /** Instances' own relays and firewall openings not released yet. */
  const releases = new Set<() => Promise<void>>();
  const dispose = async (): Promise<void> => {
    for (const app of apps.splice(0)) await app.remove();
    for (const release of [...releases]) await release();
    for (const relay of relays.splice(0)) await relay.close();
    await network.remove();
    // Anything else this run left (e.g. a container whose removal failed above).
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`${LABEL_RUN}=${runId}`] },
    });
    for (const c of left)
      await docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined);
    if (imageCacheCaps().workspace === 0)
      await docker
        .getImage(image)
        .remove()
        .catch(() => undefined);
  };
  try {
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(opts.env)) {
      env[key] = await relayUrl(value, network, relays);
    }
    network.firewall(relays.map((r) => r.port));
    return {
      runId,
      image,
      network: network.name,
      limits,
      env,
      createApp(logs) {
        const app = new ContainerApp(docker, {
          image,
          runId,
          network: network.name,
          env,
          limits,
          ...(logs ? { logs } : {}),
        });
        apps.push(app);
        return app;
      },
      async createAppWith(overrides, logs) {
        const own: Relay[] = [];
        let closeFirewall = (): void => undefined;
        const release = async (): Promise<void> => {
          releases.delete(release);
          closeFirewall();
          closeFirewall = () => undefined;
          for (const relay of own.splice(0)) await relay.close();
        };
        releases.add(release); // with the run's dispose(), if the caller never releases
        try {
          const instanceEnv = { ...env };
          for (const [key, value] of Object.entries(overrides))
            instanceEnv[key] = await relayUrl(value, network, own);
          closeFirewall = network.allow(own.map((r) => r.port));
          const app = new ContainerApp(docker, {
            image,
            runId,
            network: network.name,
            env: instanceEnv,
            limits,
            ...(logs ? { logs } : {}),
          });
          apps.push(app);
          return { app, env: instanceEnv, release };
        } catch (e) {
          await release();
          throw e;
        }
      },
      dispose,
    };
  } catch (e) {
    await dispose();
    throw e;
  }
}
