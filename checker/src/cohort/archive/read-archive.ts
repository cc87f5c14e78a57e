import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { ArchiveError, type ArchiveLimits } from './limits';

export interface ArchiveFile {
  /** Relative, normalised, forward slashes, no `.` or `..` segments. */
  path: string;
  data: Buffer;
  sha256: string;
  executable: boolean;
}

const DEVICE_TYPES = new Set(['CharacterDevice', 'BlockDevice', 'FIFO']);
const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);

/** The entry's path, made relative and clean, or an ArchiveError naming what is wrong with it. */
export function safeEntryPath(raw: string): string {
  if (raw.includes('\0'))
    throw new ArchiveError(400, 'ARCHIVE_BAD_PATH', 'an entry path contains a NUL byte');
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw) || raw.startsWith('\\'))
    throw new ArchiveError(
      400,
      'ARCHIVE_ABSOLUTE_PATH',
      `the entry "${raw}" has an absolute path; only paths relative to the workspace are accepted`,
    );
  if (raw.includes('\\'))
    throw new ArchiveError(
      400,
      'ARCHIVE_BAD_PATH',
      `the entry "${raw}" has a backslash in its path`,
    );
  const segments = raw.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..'))
    throw new ArchiveError(
      400,
      'ARCHIVE_PATH_TRAVERSAL',
      `the entry "${raw}" climbs out of the workspace with ".."`,
    );
  if (segments.length === 0)
    throw new ArchiveError(400, 'ARCHIVE_BAD_PATH', `the entry "${raw}" has no name`);
  const clean = segments.join('/');
  if (clean.length > 1024)
    throw new ArchiveError(400, 'ARCHIVE_BAD_PATH', 'an entry path is longer than 1024 characters');
  return clean;
}

function refuseType(entry: ReadEntry): ArchiveError | undefined {
  if (FILE_TYPES.has(entry.type) || entry.type === 'Directory') return undefined;
  if (entry.type === 'SymbolicLink')
    return new ArchiveError(
      400,
      'ARCHIVE_SYMLINK',
      `the entry "${entry.path}" is a symbolic link; submissions hold regular files only`,
    );
  if (entry.type === 'Link')
    return new ArchiveError(
      400,
      'ARCHIVE_HARDLINK',
      `the entry "${entry.path}" is a hard link; submissions hold regular files only`,
    );
  if (DEVICE_TYPES.has(entry.type))
    return new ArchiveError(
      400,
      'ARCHIVE_DEVICE',
      `the entry "${entry.path}" is a device or FIFO; submissions hold regular files only`,
    );
  return new ArchiveError(
    400,
    'ARCHIVE_ENTRY_TYPE',
    `the entry "${entry.path}" is a ${entry.type}; submissions hold regular files only`,
  );
}

/**
 * Reads a tar.gz fully in memory and checks every entry: regular files and folders only, relative
 * paths inside the workspace, no duplicates, within the limits. Nothing touches the disk.
 */
export function readArchive(archive: Buffer, limits: ArchiveLimits): Promise<ArchiveFile[]> {
  if (archive.length > limits.maxArchiveBytes)
    return Promise.reject(
      new ArchiveError(
        413,
        'ARCHIVE_TOO_LARGE',
        `the archive is ${archive.length} bytes; the limit is ${limits.maxArchiveBytes}`,
      ),
    );
  if (archive.length < 2 || archive[0] !== 0x1f || archive[1] !== 0x8b)
    return Promise.reject(
      new ArchiveError(
        400,
        'NOT_AN_ARCHIVE',
        'the body is not a gzip-compressed tar archive (tar.gz)',
      ),
    );
  let tar: Buffer;
  try {
    // Bounded: a gzip bomb stops at the limit (plus the tar headers' share) instead of filling memory.
    tar = gunzipSync(archive, {
      maxOutputLength: limits.maxUnpackedBytes + 512 * (2 * limits.maxFiles + 2),
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError)
      return Promise.reject(
        new ArchiveError(
          413,
          'ARCHIVE_TOO_LARGE',
          `the unpacked archive exceeds ${limits.maxUnpackedBytes} bytes`,
        ),
      );
    return Promise.reject(
      new ArchiveError(
        400,
        'NOT_AN_ARCHIVE',
        `the body is not valid gzip: ${(e as Error).message}`,
      ),
    );
  }
  if (tar.every((b) => b === 0))
    return Promise.reject(new ArchiveError(400, 'EMPTY_ARCHIVE', 'the archive holds no files'));
  return new Promise((resolve, reject) => {
    const files: ArchiveFile[] = [];
    const seen = new Set<string>();
    let unpacked = 0;
    let entries = 0;
    let failed = false;
    const parser = new Parser({ strict: true });
    const fail = (e: unknown): void => {
      if (failed) return;
      failed = true;
      reject(
        e instanceof ArchiveError
          ? e
          : new ArchiveError(
              400,
              'NOT_AN_ARCHIVE',
              `the body is not a valid tar.gz: ${e instanceof Error ? e.message : String(e)}`,
            ),
      );
      parser.abort(e instanceof Error ? e : new Error(String(e)));
    };
    parser.on('entry', (entry: ReadEntry) => {
      if (failed) return entry.resume();
      try {
        const refused = refuseType(entry);
        if (refused) throw refused;
        const path = safeEntryPath(entry.path);
        if (++entries > limits.maxFiles)
          throw new ArchiveError(
            413,
            'ARCHIVE_TOO_MANY_FILES',
            `the archive holds more than ${limits.maxFiles} entries`,
          );
        if (entry.type === 'Directory') return entry.resume();
        if (seen.has(path))
          throw new ArchiveError(
            400,
            'ARCHIVE_DUPLICATE_PATH',
            `the entry "${path}" appears twice`,
          );
        seen.add(path);
        unpacked += entry.size;
        if (unpacked > limits.maxUnpackedBytes)
          throw new ArchiveError(
            413,
            'ARCHIVE_TOO_LARGE',
            `the unpacked files exceed ${limits.maxUnpackedBytes} bytes`,
          );
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => {
          const data = Buffer.concat(chunks);
          files.push({
            path,
            data,
            sha256: createHash('sha256').update(data).digest('hex'),
            executable: ((entry.mode ?? 0) & 0o111) !== 0,
          });
        });
      } catch (e) {
        entry.resume();
        fail(e);
      }
    });
    parser.on('error', fail);
    parser.on('warn', (_code: string, message: string | Error) => fail(message));
    parser.on('end', () => {
      if (failed) return;
      if (files.length === 0)
        return fail(new ArchiveError(400, 'EMPTY_ARCHIVE', 'the archive holds no files'));
      resolve(files.sort((a, b) => (a.path < b.path ? -1 : 1)));
    });
    parser.end(tar);
  });
}
