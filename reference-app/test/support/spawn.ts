import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';

export interface ChildApp {
  url: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Spawns `node ARGS` on `port` and resolves once `readyPath` answers 2xx (20 s at most). */
export async function spawnServer(
  nodeArgs: readonly string[],
  env: Record<string, string>,
  port: number,
  readyPath = '/health',
): Promise<ChildApp> {
  const child = spawn(process.execPath, nodeArgs, {
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const url = `http://127.0.0.1:${port}`;
  const what = nodeArgs.at(-1) ?? 'the server';
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited at start: ${stderr}`);
    const ok = await fetch(`${url}${readyPath}`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { url, child, exited };
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${what} did not answer within 20 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

const SERVER_ENTRY = path.join(__dirname, '..', '..', 'src', 'server.ts');

/** The real entry point from source in its own process (for SIGKILL/SIGTERM drills), on a fixed port. */
export const spawnApp = (env: Record<string, string>, port: number): Promise<ChildApp> =>
  spawnServer(['--import', 'tsx', SERVER_ENTRY], env, port);
