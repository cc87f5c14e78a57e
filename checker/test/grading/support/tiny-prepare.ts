import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { AppInstance, RunContext } from '../../../src/harness/api';
import { createHttpClient } from '../../../src/harness/http';
import { SetupError } from '../../../src/app/setup-error';
import type { PreparedRun, PrepareOptions } from '../../../src/runner/run-types';

/**
 * A stand-in for the runtime's prepareRun, for testing the grading core alone: runs `node server.js`
 * of a tiny fixture app and offers only `app.http`. A workspace without server.js is a broken
 * submission; SANDBOX_FIXTURE_CHECKER_ERROR makes the checker itself fail.
 */
export async function prepareTinyRun(opts: PrepareOptions): Promise<PreparedRun> {
  if (process.env['SANDBOX_FIXTURE_CHECKER_ERROR'])
    throw new SetupError('checker', 'NO_ENGINE', 'no container engine answers');
  const entry = path.join(opts.workspace, 'server.js');
  if (!existsSync(entry))
    throw new SetupError(
      'submission',
      'APP_DID_NOT_START',
      'the app did not start: server.js is missing',
      'Error: Cannot find module server.js',
    );
  opts.onProgress?.('Starting the app...');
  const port = await freePort();
  const child = spawn(process.execPath, [entry], {
    env: { ...process.env, PORT: String(port) },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntilAnswering(port);
  const unavailable = (what: string) => (): never => {
    throw new Error(`${what} is not available in the tiny fixture run`);
  };
  const app = {
    url,
    wsUrl: url.replace('http', 'ws'),
    port,
    http: createHttpClient(url),
    running: true,
    logs: () => 'tiny app log line',
    ws: unavailable('ws'),
    signal: unavailable('signal'),
    waitForExit: unavailable('waitForExit'),
    kill: unavailable('kill'),
    restart: unavailable('restart'),
  } as AppInstance;
  const context = { app, env: {}, unique: (p: string) => `${p}-fixture` } as unknown as RunContext;
  return {
    context,
    dispose: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

async function waitUntilAnswering(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(socket.end() !== undefined));
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the tiny app did not listen on ${port}`);
}
