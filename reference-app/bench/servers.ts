import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import type { ChildApp } from '../test/async-support';

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

/** Spawns a compiled entry on `port` and waits until `readyPath` answers 200. */
async function spawnCompiled(
  entry: string,
  env: Record<string, string>,
  port: number,
  readyPath: string,
): Promise<ChildApp> {
  const child = spawn(process.execPath, [...NODE_FLAGS, entry], {
    env: { ...process.env, NODE_ENV: 'production', ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${entry} exited at start: ${stderr}`);
    const ok = await fetch(`${url}${readyPath}`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { url, child, exited };
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${entry} did not answer within 20 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const spawnAppCompiled = (env: Record<string, string>, port: number) =>
  spawnCompiled(APP_ENTRY, env, port, '/health');

export const spawnBareCompiled = (env: Record<string, string>, port: number) =>
  spawnCompiled(BARE_ENTRY, env, port, '/bare');

export async function stopServer(app: ChildApp): Promise<void> {
  app.child.kill('SIGTERM');
  await app.exited;
}
