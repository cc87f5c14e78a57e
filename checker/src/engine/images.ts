import fs from 'node:fs';
import path from 'node:path';
import { courseRoot } from './course-files';

export interface SandboxImages {
  postgres: string;
  redis: string;
  node: string;
  /** True when the names come from the local build (docker/images/build.sh), not a registry. */
  local: boolean;
}

/** The official images, used on a machine whose engine can pull from a registry. */
export const OFFICIAL_IMAGES: Readonly<SandboxImages> = Object.freeze({
  postgres: 'postgres:16-alpine',
  redis: 'redis:7-alpine',
  node: 'node:20-slim',
  local: false,
});

/** docker/.build/images.json, written by docker/images/build.sh. */
export function localImagesFile(repoRoot = courseRoot()): string {
  return path.join(repoRoot, 'docker', '.build', 'images.json');
}

/**
 * Image names are configuration: SANDBOX_{POSTGRES,REDIS,NODE}_IMAGE win; otherwise the local build
 * when present (or required by SANDBOX_LOCAL_IMAGES=1); otherwise the official images.
 */
export function resolveImages(
  env: NodeJS.ProcessEnv = process.env,
  file = localImagesFile(),
): SandboxImages {
  const wantLocal = env.SANDBOX_LOCAL_IMAGES === '1' || env.SANDBOX_LOCAL_IMAGES === 'true';
  let base: SandboxImages = { ...OFFICIAL_IMAGES };
  if (fs.existsSync(file)) {
    const built = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<
      Record<'postgres' | 'redis' | 'node', string>
    >;
    if (built.postgres && built.redis && built.node) {
      base = { postgres: built.postgres, redis: built.redis, node: built.node, local: true };
    }
  } else if (wantLocal) {
    throw new Error(
      `SANDBOX_LOCAL_IMAGES is set but ${file} is missing: run docker/images/build.sh first`,
    );
  }
  return {
    postgres: env.SANDBOX_POSTGRES_IMAGE || base.postgres,
    redis: env.SANDBOX_REDIS_IMAGE || base.redis,
    node: env.SANDBOX_NODE_IMAGE || base.node,
    local: base.local,
  };
}
