import os from 'node:os';
import path from 'node:path';

/** ~/.cache/backend-sandbox (or $SANDBOX_CACHE_DIR): initdb templates, build hashes, run dirs. */
export function cacheDir(...parts: string[]): string {
  const base =
    process.env.SANDBOX_CACHE_DIR ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'backend-sandbox');
  return path.join(base, ...parts);
}
