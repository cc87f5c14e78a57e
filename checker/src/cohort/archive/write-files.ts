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
  for (const file of files) {
    const dest = path.resolve(base, safeEntryPath(file.path));
    const rel = path.relative(base, dest);
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel))
      throw new ArchiveError(
        400,
        'ARCHIVE_PATH_TRAVERSAL',
        `the entry "${file.path}" leaves the workspace`,
      );
    try {
      await mkdir(path.dirname(dest), { recursive: true, mode: 0o755 });
      await writeFile(dest, file.data, { flag: 'wx', mode: file.executable ? 0o755 : 0o644 });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR')
        throw new ArchiveError(
          400,
          'ARCHIVE_PATH_CONFLICT',
          `the entry "${file.path}" clashes with another entry`,
        );
      throw e;
    }
  }
}
