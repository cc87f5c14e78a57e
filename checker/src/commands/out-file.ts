import { lstatSync, type Stats } from 'node:fs';
import path from 'node:path';
import { replaceFile } from '../workspace/files';

/**
 * Where `--out FILE` may write: never through a symbolic link (the file itself, its folder, or a
 * link planted in a folder anyone can write to, such as /tmp), so a report cannot be aimed at
 * another file. Returns why not, or undefined when the path is fine.
 */
export function outPathProblem(file: string): string | undefined {
  const target = path.resolve(file);
  const parent = path.dirname(target);
  const own = lstatOrUndefined(target);
  if (own?.isSymbolicLink()) return `--out ${file} is a symbolic link: give the real path.`;
  if (own && !own.isFile()) return `--out ${file} exists and is not a regular file.`;
  const components = parent.split(path.sep).filter(Boolean);
  let dir = path.parse(parent).root;
  for (const [i, part] of components.entries()) {
    const containing = dir;
    dir = path.join(dir, part);
    const stat = lstatOrUndefined(dir);
    if (!stat) return `--out ${file}: the folder ${dir} does not exist.`;
    if (!stat.isSymbolicLink()) continue;
    const isParent = i === components.length - 1;
    const shared = ((lstatOrUndefined(containing)?.mode ?? 0) & 0o002) !== 0;
    if (isParent || shared)
      return `--out ${file}: ${dir} is a symbolic link${shared ? ` in ${containing}, which anyone can write to` : ''}: give the real path.`;
  }
  return undefined;
}

/** Writes the report to `--out` (checked by outPathProblem first) without following a link. */
export function writeOutFile(file: string, content: string): void {
  replaceFile(path.resolve(file), content);
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}
