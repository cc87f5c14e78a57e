import http from 'node:http';
import type { LogBuffer } from '../app/log-buffer';
import { SetupError } from '../app/setup-error';
import type { AppExit } from '../harness/api';

/** How long a starting app has to answer HTTP on PORT, in either runtime. */
export const READY_TIMEOUT_MS = 20_000;

/**
 * Anything HTTP answering `GET /health` means the app is up. A whole request (no half-close): Node's
 * server drops a half-closed connection before a slow handler (a database check) can answer.
 */
export function answersHttp(host: string, port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(
      { host, port, path: '/health', timeout: timeoutMs, agent: false },
      (res) => {
        res.resume();
        resolve(true);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

export interface Readiness {
  /** Where the checker reaches the app (127.0.0.1, or the container's address). */
  host: string;
  /** The PORT the app was given. */
  port: number;
  timeoutMs?: number;
  signal?: AbortSignal | undefined;
  logs: LogBuffer;
  /** The app's exit once it has exited, else undefined. */
  exit(): AppExit | undefined;
  /** Time is up: kill the app and return a hint for the learner ('' for none). */
  onTimeout(): Promise<string>;
}

/** Waits until the app answers, in both runtimes: the same exit and time-limit messages. */
export async function waitUntilReady(r: Readiness): Promise<void> {
  const limitMs = r.timeoutMs ?? READY_TIMEOUT_MS;
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (r.signal?.aborted) throw new SetupError('checker', 'ABORTED', 'The run was interrupted.');
    const exit = r.exit();
    if (exit) {
      const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
      throw new SetupError(
        'submission',
        'APP_EXITED',
        `your app ${how} before it listened on PORT=${r.port}. Its last lines of output are below.`,
        r.logs.tail(),
      );
    }
    if (await answersHttp(r.host, r.port)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const hint = await r.onTimeout();
  throw new SetupError(
    'submission',
    'APP_NOT_LISTENING',
    `your app did not listen on PORT=${r.port} within ${limitMs / 1000} s.${hint}`,
    r.logs.tail(),
  );
}
