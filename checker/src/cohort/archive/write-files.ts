import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ArchiveError } from './limits';
import { safeEntryPath, type ArchiveFile } from './read-archive';

/**
 * Writes checked archive files under `root` (a fresh, empty folder). Every path is re-checked to
 * stay inside root; files are created exclusively ('wx'), so nothing existing is overwritten or followed.
 */
export async function writeArchiveFiles(root: string, files: ArchiveFile[]): Promise<void> {
  const base = path.resolve(root);
  const targets = files.map((file) => {
    const dest = path.resolve(base, safeEntryPath(file.path));
    const rel = path.relative(base, dest);
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel))
      throw new ArchiveError(
        400,
        'ARCHIVE_PATH_TRAVERSAL',
        `the entry "${file.path}" leaves the workspace`,
      );
    return { file, dest };
  });
  const clash = (e: unknown, file: ArchiveFile): never => {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR')
      throw new ArchiveError(
        400,
        'ARCHIVE_PATH_CONFLICT',
        `the entry "${file.path}" clashes with another entry`,
      );
    throw e;
  };
  // The folders first (a few), then every file at once: a workspace's files in one go, not one
  // file system round trip after another (unpacking is on each submission's path).
  const folders = new Map<string, ArchiveFile>();
  for (const t of targets) folders.set(path.dirname(t.dest), t.file);
  for (const [folder, file] of [...folders].sort(([a], [b]) => a.length - b.length))
    await mkdir(folder, { recursive: true, mode: 0o755 }).catch((e: unknown) => clash(e, file));
  await Promise.all(
    targets.map(({ file, dest }) =>
      writeFile(dest, file.data, { flag: 'wx', mode: file.executable ? 0o755 : 0o644 }).catch(
        (e: unknown) => clash(e, file),
      ),
    ),
  );
}
