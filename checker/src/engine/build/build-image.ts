import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { SetupError } from '../../app/setup-error';
import { engine } from '../client';
import { dockerDir } from '../course-files';
import type { SandboxImages } from '../images';
import { LABEL, LABEL_CACHE } from '../labels';
import type { ContainerLimits } from '../limits';
import { createNetwork } from '../network';
import { removeLabelled } from '../sweep';
import { makeBuildContext, sweepBuildContexts, type BuildContext } from './context';
import { DEPS_IMAGE_REPO, imageExists, pruneImageCache, WORKSPACE_IMAGE_REPO } from './image-cache';
import { runStage, type StageOptions } from './stage';

export interface BuildOptions {
  images: SandboxImages;
  limits: ContainerLimits;
  /** The run's stop (its --timeout, Ctrl-C): the build is killed and its containers removed. */
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

const scriptsDir = (): string => path.join(dockerDir(), 'learner-build');

/** Commits a finished stage's container as a cached image, then removes the container. */
async function commit(
  container: Dockerode.Container,
  image: string,
  kind: 'deps' | 'workspace',
): Promise<void> {
  const [repo, tag] = [
    image.slice(0, image.lastIndexOf(':')),
    image.slice(image.lastIndexOf(':') + 1),
  ];
  try {
    await container.commit({
      repo,
      tag,
      pause: false,
      changes: [
        `LABEL ${LABEL}=true`,
        `LABEL ${LABEL_CACHE}=${kind}`,
        'USER 10001:10001',
        'WORKDIR /app',
      ],
    });
  } finally {
    await container.remove({ force: true, v: true }).catch(() => undefined);
  }
}

type Stage = Omit<StageOptions, 'runId' | 'scriptsDir' | 'limits' | 'signal'>;

interface Build {
  docker: Dockerode;
  runId: string;
  opts: BuildOptions;
  signal: AbortSignal;
  timedOut: () => boolean;
}

async function stage(b: Build, s: Stage, image: string, failure: string): Promise<void> {
  const outcome = await runStage(b.docker, {
    ...s,
    runId: b.runId,
    scriptsDir: scriptsDir(),
    limits: b.opts.limits,
    signal: b.signal,
  });
  if (outcome.kind === 'done')
    return commit(outcome.container, image, s.name === 'deps' ? 'deps' : 'workspace');
  if (outcome.kind === 'failed')
    throw new SetupError(
      'submission',
      'BUILD_FAILED',
      `${failure} (exit code ${outcome.exitCode}${outcome.exitCode === 137 ? ': killed, out of memory?' : ''}). Its last lines of output are below.`,
      outcome.logs.tail(),
    );
  if (outcome.kind === 'over-disk')
    throw new SetupError(
      'submission',
      'BUILD_DISK_LIMIT',
      `${failure}: it wrote more than ${Math.round(b.opts.limits.buildDiskBytes / 1048576)} MB and was stopped. Check what it writes (npm run build in your workspace, then du -sh *). Its last lines of output are below.`,
      outcome.logs.tail(),
    );
  if (b.timedOut())
    throw new SetupError(
      'submission',
      'BUILD_TIMEOUT',
      `building your workspace into an image took longer than ${b.opts.limits.buildTimeoutMs / 1000} s; it was stopped. Its last lines of output are below.`,
      outcome.logs.tail(),
    );
  throw new SetupError('checker', 'ABORTED', 'The run was interrupted.');
}

/** Dependencies, fetched by npm alone (no scripts), on a network that reaches the registry but not this machine. */
async function depsImage(b: Build, ctx: BuildContext): Promise<string> {
  const image = `${DEPS_IMAGE_REPO}:${ctx.depsHash}`;
  if (await imageExists(b.docker, image)) return image;
  b.opts.onProgress?.('Fetching your dependencies in a container (npm ci --ignore-scripts)...');
  const network = await createNetwork(b.docker, `sandbox-${b.runId}-deps`, b.runId, {
    internal: false,
  });
  try {
    network.firewall([]);
    await stage(
      b,
      {
        image: b.opts.images.node,
        name: 'deps',
        script: 'deps.sh',
        source: ctx.depsDir,
        user: '0:0',
        // Root inside the container, for npm to write /app and hand it to uid 10001; no other power.
        capAdd: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER'],
        network: network.name,
      },
      image,
      'npm could not install your dependencies (npm ci --ignore-scripts)',
    );
  } finally {
    await network.remove();
  }
  return image;
}

/**
 * Builds the learner's workspace into an image in two stages: the dependencies (npm only, no
 * scripts, a registry-only network), then the workspace's lifecycle scripts and `npm run build`
 * as uid 10001 with no network, within the build limits and the run's time. The tag is a hash of
 * what was built from, so an unchanged workspace reuses its image (a bounded cache: image-cache.ts).
 */
export async function buildWorkspaceImage(workspace: string, opts: BuildOptions): Promise<string> {
  const docker = await engine();
  // A killed checker's build containers, networks and firewall rules go before this build adds its own.
  await removeLabelled({ orphansOnly: true }).catch(() => undefined);
  sweepBuildContexts();
  const salt = [
    opts.images.node,
    readFileSync(path.join(scriptsDir(), 'deps.sh'), 'utf8'),
    readFileSync(path.join(scriptsDir(), 'build.sh'), 'utf8'),
  ].join('\0');
  const ctx = makeBuildContext(workspace, salt);
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, opts.limits.buildTimeoutMs);
  const onAbort = (): void => controller.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) controller.abort();
  try {
    if (ctx.refused.length)
      opts.onProgress?.(`Left out of the image: ${ctx.refused.slice(0, 5).join(', ')}`);
    const image = `${WORKSPACE_IMAGE_REPO}:${ctx.hash}`;
    if (await imageExists(docker, image)) {
      opts.onProgress?.(`Reusing the image of this workspace (${image})`);
      return image;
    }
    const b: Build = {
      docker,
      runId: `build-${randomBytes(4).toString('hex')}`,
      opts,
      signal: controller.signal,
      timedOut: () => timedOut,
    };
    const deps = await depsImage(b, ctx);
    opts.onProgress?.('Building your workspace in a container without network (npm run build)...');
    await stage(
      b,
      {
        image: deps,
        name: 'build',
        script: 'build.sh',
        source: ctx.appDir,
        user: '10001:10001',
        network: 'none',
      },
      image,
      'your lifecycle scripts or `npm run build` failed in the build container',
    );
    // Best effort: a prune that cannot list the images now leaves the cache to the next build.
    await pruneImageCache(docker, undefined, [image, deps]).catch(() => []);
    return image;
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    ctx.remove();
  }
}
