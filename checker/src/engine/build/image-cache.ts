import { randomBytes } from 'node:crypto';
import type Dockerode from 'dockerode';
import { runLabels } from '../labels';

export const WORKSPACE_IMAGE_REPO = 'localhost/backend-sandbox/workspace';
export const DEPS_IMAGE_REPO = 'localhost/backend-sandbox/deps';

/**
 * How many images of each kind are kept (newest first): a workspace image per graded workspace
 * state (sources and build output over its dependency image), a dependency image per set of
 * manifests. SANDBOX_IMAGE_CACHE / SANDBOX_DEPS_IMAGE_CACHE; 0 keeps none past the run's end.
 */
export interface ImageCacheCaps {
  workspace: number;
  deps: number;
}

export function imageCacheCaps(env: NodeJS.ProcessEnv = process.env): ImageCacheCaps {
  const num = (name: string, fallback: number): number => {
    const v = Number(env[name]);
    return env[name] !== undefined && Number.isInteger(v) && v >= 0 ? v : fallback;
  };
  return { workspace: num('SANDBOX_IMAGE_CACHE', 6), deps: num('SANDBOX_DEPS_IMAGE_CACHE', 3) };
}

interface CachedImage {
  id: string;
  tag: string;
  created: number;
  size: number;
}

/**
 * The engine's image list. Podman fails the whole listing (500, "image not known") when a
 * concurrent run removes an image while it is being listed: list again, a few times.
 */
async function listImagesSettled(docker: Dockerode): Promise<Dockerode.ImageInfo[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await docker.listImages();
    } catch (e) {
      if (attempt >= 5) throw e;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

/** The cache's images of one repository, newest first. */
export async function cachedImages(docker: Dockerode, repo: string): Promise<CachedImage[]> {
  const all = await listImagesSettled(docker);
  return all
    .flatMap((i) =>
      (i.RepoTags ?? [])
        .filter((t) => t.startsWith(`${repo}:`))
        .map((tag) => ({ id: i.Id, tag, created: i.Created, size: i.Size })),
    )
    .sort((a, b) => b.created - a.created);
}

export async function imageExists(docker: Dockerode, image: string): Promise<boolean> {
  return docker
    .getImage(image)
    .inspect()
    .then(
      () => true,
      () => false,
    );
}

/**
 * Removes the oldest images past the caps. `keep` (the image of the run that just built) stays.
 * An image a container still uses (a concurrent run) cannot be removed and is skipped.
 */
export async function pruneImageCache(
  docker: Dockerode,
  caps: ImageCacheCaps = imageCacheCaps(),
  keep: string[] = [],
): Promise<string[]> {
  const removed: string[] = [];
  for (const [repo, cap] of [
    [WORKSPACE_IMAGE_REPO, caps.workspace],
    [DEPS_IMAGE_REPO, caps.deps],
  ] as const) {
    const images = (await cachedImages(docker, repo)).filter((i) => !keep.includes(i.tag));
    const room = Math.max(0, cap - keep.filter((k) => k.startsWith(`${repo}:`)).length);
    for (const old of images.slice(room)) {
      await docker
        .getImage(old.tag)
        .remove()
        .then(() => removed.push(old.tag))
        .catch(() => undefined);
    }
  }
  return removed;
}

/**
 * Pins `image` for one run: a created, never started container, which the engine will not let a
 * concurrent run's prune remove the image under. Labelled like the run's other containers, so a
 * killed checker's holds are swept with them. Undefined when the image is gone (pruned already).
 */
export async function holdImage(
  docker: Dockerode,
  image: string,
  runId: string,
): Promise<{ release(): Promise<void> } | undefined> {
  const container = await docker
    .createContainer({
      Image: image,
      name: `sandbox-${runId}-hold-${randomBytes(3).toString('hex')}`,
      Entrypoint: ['/bin/true'],
      Labels: runLabels(runId),
      HostConfig: { NetworkMode: 'none' },
    })
    .catch(() => undefined);
  if (!container) return undefined;
  return {
    release: () =>
      container.remove({ force: true }).then(
        () => undefined,
        () => undefined,
      ),
  };
}
