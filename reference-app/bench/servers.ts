import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { spawnServer, type ChildApp } from '../test/support/spawn';

const APP_DIR = path.join(__dirname, '..');
const TSC = require.resolve('typescript/bin/tsc');
/** Both servers run as compiled JavaScript with the same Node flags: only the handler differs. */
export const NODE_FLAGS: readonly string[] = [];
const APP_ENTRY = path.join(APP_DIR, 'dist', 'server.js');
const BARE_ENTRY = path.join(APP_DIR, '.cache', 'bench', 'bare-server.js');

/** Compiles the app (its own build) and the bare server, so neither runs through tsx. */
export function buildServers(): void {
  execFileSync(process.execPath, [TSC, '-p', path.join(APP_DIR, 'tsconfig.build.json')], {
    stdio: 'inherit',
  });
  execFileSync(process.execPath, [TSC, '-p', path.join(APP_DIR, 'bench', 'tsconfig.json')], {
    stdio: 'inherit',
  });
}

/** A compiled entry, as production runs it: only the handler differs between the two servers. */
const spawnCompiled = (
  entry: string,
  env: Record<string, string>,
  port: number,
  readyPath: string,
): Promise<ChildApp> =>
  spawnServer([...NODE_FLAGS, entry], { NODE_ENV: 'production', ...env }, port, readyPath);

export const spawnAppCompiled = (env: Record<string, string>, port: number) =>
  spawnCompiled(APP_ENTRY, env, port, '/health');

export const spawnBareCompiled = (env: Record<string, string>, port: number) =>
  spawnCompiled(BARE_ENTRY, env, port, '/bare');

export async function stopServer(app: ChildApp): Promise<void> {
  app.child.kill('SIGTERM');
  await app.exited;
}
