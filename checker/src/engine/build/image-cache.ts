import type Dockerode from 'dockerode';

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

/** The cache's images of one repository, newest first. */
export async function cachedImages(docker: Dockerode, repo: string): Promise<CachedImage[]> {
  const all = await docker.listImages();
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
