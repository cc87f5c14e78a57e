import type { Hash } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { SetupError } from '../app/setup-error';
import { openNewFile } from './files';
import { isGenerated, TOOL_CONFIG_FILES } from './generated';

export interface CopyLimits {
  /** Entries: files, folders and links (an empty folder is an inode too). */
  files: number;
  /** Bytes of file contents. */
  bytes: number;
}

/** A workspace bigger than this is not a course project (and would fill the run's disk). */
export const COPY_LIMITS: Readonly<CopyLimits> = Object.freeze({
  files: 20_000,
  bytes: 256 * 1024 * 1024,
});

export interface CopyOptions {
  /**
   * `verbatim` (the default): every link is copied as the link it is, never followed (a copy made
   * by the checker, maybe as root: a link to a root-only file must stay a link the run's uid cannot
   * read through). `inside`: only a relative link that lands inside the workspace is kept (an
   * image must not carry links into this machine); any other is left out and named in `refused`.
   */
  links?: 'verbatim' | 'inside';
  /**
   * `keep` (the default): the file's permission bits, without setuid/setgid/sticky. `normalise`:
   * 0755 when anyone may execute it, else 0644 (the build stage reads the copy as uid 10001).
   */
  modes?: 'keep' | 'normalise';
  limits?: CopyLimits;
  /** Fed every entry copied, in name order: kind, path, mode, contents, link target. */
  hash?: Hash;
}

export interface CopyResult {
  /** Files, folders and links copied. */
  entries: number;
  bytes: number;
  /** Left out: links out of the workspace (`inside`), fifos, sockets, devices. */
  refused: string[];
}

const CHUNK = 1024 * 1024;

/**
 * Copies a workspace's own files into `dest` (made if missing): never its generated folders
 * (workspace/generated.ts) nor the tools' config at its top (`.npmrc`: npm would read it as the
 * checker), never following a link, reading each file through a descriptor opened with
 * O_NOFOLLOW (a link swapped in after the listing is refused, not read), its size counted as
 * read (a file that grows meanwhile is still capped), written to a new file only (O_EXCL).
 * Fifos, sockets and devices are left out. Throws WORKSPACE_TOO_BIG past the limits.
 */
export function copyWorkspace(src: string, dest: string, opts: CopyOptions = {}): CopyResult {
  const limits = opts.limits ?? COPY_LIMITS;
  const root = path.resolve(src);
  const result: CopyResult = { entries: 0, bytes: 0, refused: [] };
  const tooBig = (): never => {
    throw new SetupError(
      'submission',
      'WORKSPACE_TOO_BIG',
      `Your workspace has more than ${limits.files} files and folders or ${Math.round(limits.bytes / 1048576)} MB outside node_modules, dist and .git. Remove what is not source.`,
    );
  };
  const buffer = Buffer.allocUnsafe(CHUNK);
  const copyFile = (from: string, to: string, rel: string, mode: number): void => {
    const input = openSync(from, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      if (!fstatSync(input).isFile())
        return void result.refused.push(`${rel} (not a file or folder)`);
      const output = openNewFile(to, 0o600);
      try {
        // The mode set by descriptor: the process's umask never narrows it.
        fchmodSync(output, mode);
        opts.hash?.update(`f\0${rel}\0${mode}\0`);
        for (;;) {
          const n = readSync(input, buffer, 0, CHUNK, null);
          if (n === 0) break;
          result.bytes += n;
          if (result.bytes > limits.bytes) tooBig();
          const chunk = buffer.subarray(0, n);
          opts.hash?.update(chunk);
          for (let at = 0; at < n;) at += writeSync(output, chunk, at, n - at);
        }
      } finally {
        closeSync(output);
      }
    } finally {
      closeSync(input);
    }
  };
  const walk = (rel: string): void => {
    for (const name of readdirSync(path.join(root, rel)).sort()) {
      const childRel = path.join(rel, name);
      if (isGenerated(childRel) || (rel === '' && TOOL_CONFIG_FILES.has(name))) continue;
      const from = path.join(root, childRel);
      const to = path.join(dest, childRel);
      const st = lstatSync(from);
      if (++result.entries > limits.files) tooBig();
      if (st.isDirectory()) {
        mkdirSync(to, { mode: 0o755 });
        opts.hash?.update(`d\0${childRel}\0`);
        walk(childRel);
      } else if (st.isFile()) {
        const mode =
          opts.modes === 'normalise' ? (st.mode & 0o111 ? 0o755 : 0o644) : st.mode & 0o777;
        copyFile(from, to, childRel, mode);
      } else if (st.isSymbolicLink()) {
        const target = readlinkSync(from);
        if (opts.links === 'inside' && !linkStaysInside(root, from, target)) {
          result.refused.push(`${childRel} (a link out of the workspace)`);
          continue;
        }
        symlinkSync(target, to);
        opts.hash?.update(`l\0${childRel}\0${target}\0`);
      } else result.refused.push(`${childRel} (not a file or folder)`);
    }
  };
  mkdirSync(dest, { recursive: true, mode: 0o755 });
  walk('');
  return result;
}

/** A relative link whose target, resolved beside it, is inside `root` (never followed to find out). */
function linkStaysInside(root: string, link: string, target: string): boolean {
  if (path.isAbsolute(target)) return false;
  return isInside(root, path.resolve(path.dirname(link), target));
}

/** `p` is `root` or below it (by name; nothing is resolved on disk). */
export function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
