import {
  chmodSync,
  copyFileSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  symlinkSync,
} from 'node:fs';
import path from 'node:path';
import { SetupError } from '../app/setup-error';
import { isGenerated, TOOL_CONFIG_FILES } from './generated';

/** A workspace bigger than this is not a course project (and would fill the run's disk). */
export const COPY_LIMITS = { files: 20_000, bytes: 256 * 1024 * 1024 };

/**
 * Copies a workspace's own files into `dest` (which must exist): no generated folders, no
 * .npmrc; symlinks are copied as links, verbatim, never followed (the copy is made by the
 * checker, maybe as root: a link to a root-only file must stay a link the run's uid cannot
 * read through); fifos, sockets and devices are skipped. Returns the files copied.
 */
export function copyWorkspace(src: string, dest: string): number {
  let files = 0;
  let bytes = 0;
  const walk = (rel: string): void => {
    for (const name of readdirSync(path.join(src, rel))) {
      const childRel = path.join(rel, name);
      if (isGenerated(childRel) || (rel === '' && TOOL_CONFIG_FILES.has(name))) continue;
      const from = path.join(src, childRel);
      const to = path.join(dest, childRel);
      const st = lstatSync(from);
      if (st.isDirectory()) {
        mkdirSync(to, { mode: 0o755 });
        walk(childRel);
      } else if (st.isSymbolicLink()) {
        symlinkSync(readlinkSync(from), to);
      } else if (st.isFile()) {
        files++;
        bytes += st.size;
        if (files > COPY_LIMITS.files || bytes > COPY_LIMITS.bytes)
          throw new SetupError(
            'submission',
            'WORKSPACE_TOO_BIG',
            `Your workspace has more than ${COPY_LIMITS.files} files or ${COPY_LIMITS.bytes / 1024 / 1024} MB outside node_modules, dist and .git. Remove what is not source.`,
          );
        copyFileSync(from, to);
        if (st.mode & 0o7000) chmodSync(to, st.mode & 0o777); // no setuid/setgid/sticky from a workspace
      }
    }
  };
  walk('');
  return files;
}
