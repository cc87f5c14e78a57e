import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { create } from 'tar';
import { ArchiveError, NEVER_PACKED, type ArchiveLimits } from './limits';

export interface PackedWorkspace {
  archive: Buffer;
  sha256: string;
  files: string[];
  /** Paths left out because they are not regular files (symbolic links, sockets). */
  skipped: string[];
}

const neverPacked = (rel: string): boolean =>
  rel.split('/').some((segment) => NEVER_PACKED.has(segment));

/** Files git would track (tracked + untracked not ignored) in a git workspace; otherwise every file, minus the folders never packed. */
export function workspaceFiles(workspace: string): string[] {
  const tracked = insideGit(workspace) ? gitFiles(workspace) : undefined;
  if (tracked) return tracked;
  const found: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of readdirSync(path.join(workspace, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (NEVER_PACKED.has(entry.name)) continue;
      if (entry.isDirectory()) walk(child);
      else found.push(child);
    }
  };
  walk('');
  return found.sort();
}

function gitFiles(workspace: string): string[] | undefined {
  try {
    const out = execFileSync(
      'git',
      ['-C', workspace, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    return [...new Set(out.split('\0').filter(Boolean))].filter((rel) => !neverPacked(rel)).sort();
  } catch {
    return undefined; // a broken .git: fall back to the folder walk
  }
}

function insideGit(dir: string): boolean {
  try {
    return (
      execFileSync('git', ['-C', dir, 'rev-parse', '--is-inside-work-tree'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim() === 'true'
    );
  } catch {
    return false;
  }
}

/**
 * Packs a workspace into a tar.gz the same way every time (sorted paths, no owners, fixed
 * times), so the same content gives the same sha256 and the service keeps one submission.
 */
export async function packWorkspace(
  workspace: string,
  limits: ArchiveLimits,
): Promise<PackedWorkspace> {
  const files: string[] = [];
  const skipped: string[] = [];
  let size = 0;
  for (const rel of workspaceFiles(workspace)) {
    const stat = lstatSync(path.join(workspace, rel), { throwIfNoEntry: false });
    if (!stat) continue; // deleted but still in git's index
    if (!stat.isFile()) {
      skipped.push(rel);
      continue;
    }
    files.push(rel);
    size += stat.size;
  }
  if (files.length === 0)
    throw new ArchiveError(400, 'EMPTY_ARCHIVE', `${workspace} has no files to submit`);
  if (files.length > limits.maxFiles)
    throw new ArchiveError(
      413,
      'ARCHIVE_TOO_MANY_FILES',
      `${files.length} files to submit; the limit is ${limits.maxFiles} (is a generated folder committed?)`,
    );
  if (size > limits.maxUnpackedBytes)
    throw new ArchiveError(
      413,
      'ARCHIVE_TOO_LARGE',
      `the files to submit hold ${size} bytes; the limit is ${limits.maxUnpackedBytes}`,
    );
  const chunks: Buffer[] = [];
  const stream = create(
    {
      gzip: true,
      cwd: workspace,
      portable: true,
      mtime: new Date(0),
      noDirRecurse: true,
      follow: false,
    },
    files,
  );
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  const archive = Buffer.concat(chunks);
  if (archive.length > limits.maxArchiveBytes)
    throw new ArchiveError(
      413,
      'ARCHIVE_TOO_LARGE',
      `the archive is ${archive.length} bytes; the limit is ${limits.maxArchiveBytes}`,
    );
  return { archive, sha256: createHash('sha256').update(archive).digest('hex'), files, skipped };
}
