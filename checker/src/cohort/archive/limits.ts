/** What one submission may hold; the client checks the same limits before uploading. */
export interface ArchiveLimits {
  /** The tar.gz as uploaded. */
  maxArchiveBytes: number;
  /** The sum of the files' sizes once unpacked. */
  maxUnpackedBytes: number;
  maxFiles: number;
}

export const DEFAULT_LIMITS: ArchiveLimits = {
  maxArchiveBytes: 5 * 1024 * 1024,
  maxUnpackedBytes: 25 * 1024 * 1024,
  maxFiles: 2000,
};

/** Folders never packed: installed, built, version control, the checker's own notes. */
export const NEVER_PACKED = new Set([
  'node_modules',
  'dist',
  'build',
  'coverage',
  '.git',
  '.sandbox',
]);

/** Why an archive was refused: status 400 (malformed, unsafe) or 413 (over a limit), with a code naming the problem. */
export class ArchiveError extends Error {
  override readonly name = 'ArchiveError';
  constructor(
    readonly status: 400 | 413,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
