import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { DEPENDENCY_AND_STATE_FOLDERS, isGenerated } from './generated';

/**
 * A hash of a workspace's files (names, sizes, contents; symlinks by their target). With
 * `withBuildOutput`, dist/ and build/ count too, so a cached build is reused only when both the
 * sources and what the last build wrote are exactly as they were.
 */
export function workspaceHash(dir: string, opts: { withBuildOutput?: boolean } = {}): string {
  const h = createHash('sha256');
  const skip = (rel: string): boolean =>
    opts.withBuildOutput
      ? rel.split(path.sep).some((p) => DEPENDENCY_AND_STATE_FOLDERS.has(p))
      : isGenerated(rel);
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const rel = path.relative(dir, p);
      if (skip(rel)) continue;
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isSymbolicLink()) h.update(`${rel}\0->${readlinkSync(p)}\0`);
      else if (st.isFile()) {
        h.update(`${rel}\0${st.size}\0`);
        h.update(readFileSync(p));
      }
    }
  };
  walk(dir);
  return h.digest('hex');
}
