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

/** A workspace bigger than this is not a course project (and would fill the run's disk). Entries: files, folders and links. */
export const COPY_LIMITS = { files: 20_000, bytes: 256 * 1024 * 1024 };

/**
 * Copies a workspace's own files into `dest` (which must exist): no generated folders, no
 * .npmrc; symlinks are copied as links, verbatim, never followed (the copy is made by the
 * checker, maybe as root: a link to a root-only file must stay a link the run's uid cannot
 * read through); fifos, sockets and devices are skipped. Returns the entries copied (files, folders, links).
 */
export function copyWorkspace(src: string, dest: string, limits = COPY_LIMITS): number {
  let files = 0;
  let bytes = 0;
  const tooBig = (): never => {
    throw new SetupError(
      'submission',
      'WORKSPACE_TOO_BIG',
      `Your workspace has more than ${limits.files} files and folders or ${limits.bytes / 1024 / 1024} MB outside node_modules, dist and .git. Remove what is not source.`,
    );
  };
  const walk = (rel: string): void => {
    for (const name of readdirSync(path.join(src, rel))) {
      const childRel = path.join(rel, name);
      if (isGenerated(childRel) || (rel === '' && TOOL_CONFIG_FILES.has(name))) continue;
      const from = path.join(src, childRel);
      const to = path.join(dest, childRel);
      const st = lstatSync(from);
      if (++files > limits.files) tooBig();
      if (st.isDirectory()) {
        mkdirSync(to, { mode: 0o755 });
        walk(childRel);
      } else if (st.isSymbolicLink()) {
        symlinkSync(readlinkSync(from), to);
      } else if (st.isFile()) {
        bytes += st.size;
        if (bytes > limits.bytes) tooBig();
        copyFileSync(from, to);
        if (st.mode & 0o7000) chmodSync(to, st.mode & 0o777); // no setuid/setgid/sticky from a workspace
      }
    }
  };
  walk('');
  return files;
}
