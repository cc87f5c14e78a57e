import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { join, sep } from 'node:path';
import { printParseErrorCode, parse, type ParseError } from 'jsonc-parser';

/**
 * The checker's own files inside a learner's workspace (`.sandbox/*.json`). Every byte of a
 * workspace is the learner's: no path component may be a symbolic link (a planted link would
 * make the checker read or overwrite a file outside), a damaged file is named with its line but
 * never quoted, and writes go to a fresh temp file in a verified folder, then rename.
 */

/** Files larger than this are not the checker's: refused rather than read (a lock file may ask for more). */
const MAX_BYTES = 1024 * 1024;

const READ_CHUNK = 256 * 1024;

export interface ReadOptions {
  /** Larger files are refused (1 MB unless told). */
  maxBytes?: number;
}

/** What reading a workspace JSON file gave: its value, nothing (no file), or why it was unusable. */
export type JsonRead =
  | { ok: true; value: unknown }
  | { ok: false; missing: true }
  | { ok: false; missing: false; problem: string };

export class UnsafeWorkspacePathError extends Error {}

/** Reads `workspace/rel` as JSON without following links; a problem names the file and line only. */
export function readWorkspaceJson(
  workspace: string,
  rel: string,
  opts: ReadOptions = {},
): JsonRead {
  const shown = rel.split('/').join(sep);
  let target: string;
  try {
    target = verifiedPath(workspace, rel, { create: false });
  } catch (e) {
    if (isMissing(e)) return { ok: false, missing: true };
    if (e instanceof UnsafeWorkspacePathError)
      return { ok: false, missing: false, problem: e.message };
    throw e;
  }
  const text = readNoFollow(target, shown, opts.maxBytes);
  if (typeof text !== 'string') return text;
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, missing: false, problem: `${shown} ${whereInvalid(text)}` };
  }
}

/** Writes `workspace/rel` (creating its folders inside the workspace) without following any link. */
/** The text of `workspace/rel` (a regular file, no link on its path, at most 1 MB unless told), or undefined. */
export function readWorkspaceText(
  workspace: string,
  rel: string,
  opts: ReadOptions = {},
): string | undefined {
  try {
    const text = readNoFollow(verifiedPath(workspace, rel, { create: false }), rel, opts.maxBytes);
    return typeof text === 'string' ? text : undefined;
  } catch {
    return undefined;
  }
}

export function writeWorkspaceFile(workspace: string, rel: string, content: string): void {
  replaceFile(verifiedPath(workspace, rel, { create: true }), content);
}

/** Opens a file that must not exist yet for writing (O_EXCL + O_NOFOLLOW: a name planted there, a link included, makes it fail). */
export function openNewFile(path: string, mode: number): number {
  return openSync(
    path,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    mode,
  );
}

/**
 * Replaces `target` by a new file holding `content`: written to a fresh temp name beside it
 * (O_EXCL + O_NOFOLLOW, so a name planted there in the meantime makes it fail), then renamed
 * over the target (rename replaces a link at the target, it never writes through it).
 * The caller has checked that the target's folder is one it may write in.
 */
export function replaceFile(target: string, content: string): void {
  const temp = `${target}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
  const fd = openNewFile(temp, 0o644);
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(temp, target);
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  }
}

/** Moves a damaged file aside (`NAME.damaged`) so the next write does not lose it silently. */
export function setAsideWorkspaceFile(workspace: string, rel: string): string | undefined {
  try {
    const target = verifiedPath(workspace, rel, { create: false });
    renameSync(target, `${target}.damaged`);
    return `${rel}.damaged`;
  } catch {
    return undefined;
  }
}

/**
 * The absolute path of `rel` in the workspace, after checking that the workspace is a folder and
 * that no component of `rel` is a link (folders are created, one level at a time, when asked).
 */
function verifiedPath(workspace: string, rel: string, opts: { create: boolean }): string {
  const root = realpathSync(workspace);
  if (!lstatSync(root).isDirectory())
    throw new UnsafeWorkspacePathError(`${workspace} is not a folder`);
  const parts = rel.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.includes('..'))
    throw new UnsafeWorkspacePathError(`${rel} is not a path inside the workspace`);
  let dir = root;
  for (const part of parts.slice(0, -1)) {
    dir = join(dir, part);
    if (opts.create) mkdirIfMissing(dir);
    const stat = lstatSync(dir);
    if (stat.isSymbolicLink() || !stat.isDirectory())
      throw new UnsafeWorkspacePathError(
        `${relativeShown(root, dir)} in the workspace is ${stat.isSymbolicLink() ? 'a symbolic link' : 'not a folder'}: the checker does not use it`,
      );
  }
  const target = join(dir, parts[parts.length - 1]!);
  const stat = lstatOrUndefined(target);
  if (stat && (stat.isSymbolicLink() || !stat.isFile()) && !(opts.create && stat.isSymbolicLink()))
    throw new UnsafeWorkspacePathError(
      `${relativeShown(root, target)} in the workspace is ${stat.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}: the checker does not use it`,
    );
  if (!stat && !opts.create) throw missingError(target);
  return target;
}

function readNoFollow(target: string, shown: string, maxBytes = MAX_BYTES): string | JsonRead {
  let fd: number;
  try {
    fd = openSync(target, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    if (isMissing(e)) return { ok: false, missing: true };
    return { ok: false, missing: false, problem: `${shown} could not be opened` };
  }
  try {
    // Read in chunks as it comes (never sized by a stat the file could outgrow meanwhile).
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(READ_CHUNK, maxBytes + 1 - length));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      length += n;
      if (length > maxBytes)
        return {
          ok: false,
          missing: false,
          problem: `${shown} is larger than ${Math.round(maxBytes / 1048576)} MB`,
        };
    }
    return Buffer.concat(chunks, length).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** "line N, column M: <what the parser expected>", without any of the file's text. */
function whereInvalid(text: string): string {
  const errors: ParseError[] = [];
  parse(text, errors, { disallowComments: true, allowTrailingComma: false });
  const first = errors[0];
  if (!first) return 'is not valid JSON';
  const before = text.slice(0, first.offset);
  const line = before.split('\n').length;
  const column = first.offset - before.lastIndexOf('\n');
  return `is not valid JSON: line ${line}, column ${column}: ${words(printParseErrorCode(first.error))}`;
}

/** "PropertyNameExpected" -> "property name expected". */
const words = (code: string): string => code.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();

function mkdirIfMissing(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o755 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw e;
  }
}

function relativeShown(root: string, path: string): string {
  return path.slice(root.length + 1);
}

function missingError(path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${path} does not exist`), { code: 'ENOENT' });
}

const isMissing = (e: unknown): boolean =>
  ['ENOENT', 'ENOTDIR'].includes((e as NodeJS.ErrnoException).code ?? '');
