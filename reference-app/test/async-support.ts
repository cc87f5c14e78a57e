import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Client } from 'pg';
import { startMailSink, type StartedMailSink } from '../../checker/src/services/mail-sink';
import { loadConfig, type Config } from '../src/lib/config';
import { createLogger } from '../src/lib/logger';
import { start, type RunningApp } from '../src/start';

/** Shared helpers of the jobs, realtime and hardening suites: each test owns a database and a mail sink. */
const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export const uniqueEmail = (prefix = 'user'): string =>
  `${prefix}-${randomBytes(5).toString('hex')}@example.test`;

async function admin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface TestWorld {
  databaseUrl: string;
  mail: StartedMailSink;
  env: Record<string, string>;
  config: Config;
  close(): Promise<void>;
}

/** A fresh database, a mail sink and the environment of an app using them. */
export async function createWorld(overrides: Record<string, string> = {}): Promise<TestWorld> {
  const dbName = `ref_async_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`create database ${dbName}`));
  const mail = await startMailSink();
  const databaseUrl = `postgres://postgres@127.0.0.1:5432/${dbName}`;
  const env = {
    PORT: '0',
    DATABASE_URL: databaseUrl,
    REDIS_URL: 'redis://127.0.0.1:6379/0',
    JWT_SECRET: randomBytes(32).toString('hex'),
    SMTP_URL: mail.url,
    MAIL_FROM: 'Sandbox <no-reply@sandbox.test>',
    PUBLIC_URL: 'http://localhost:3000',
    JOB_BACKOFF_MS: '50',
    WS_HEARTBEAT_MS: '30000',
    BCRYPT_COST: '10',
    LOG_LEVEL: 'silent',
    ...overrides,
  };
  return {
    databaseUrl,
    mail,
    env,
    config: loadConfig(env),
    async close() {
      await mail.close();
      await admin((c) => c.query(`drop database if exists ${dbName} with (force)`));
    },
  };
}

export function startInProcess(world: TestWorld): Promise<RunningApp> {
  return start(world.config, { logger: createLogger('silent') });
}

export async function json(
  url: string,
  init: { method?: string; body?: unknown; token?: string } = {},
) {
  const res = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: (text ? JSON.parse(text) : undefined) as Record<string, unknown>,
  };
}

/** Signs up and logs in; the access and refresh tokens. */
export async function signupAndLogin(url: string, email = uniqueEmail()) {
  const password = 'correct horse battery';
  const signup = await json(`${url}/auth/signup`, { body: { email, password } });
  if (signup.status !== 201) throw new Error(`signup answered ${signup.status}`);
  const login = await json(`${url}/auth/login`, { body: { email, password } });
  if (login.status !== 200) throw new Error(`login answered ${login.status}`);
  return {
    email,
    password,
    accessToken: String(login.body.accessToken),
    refreshToken: String(login.body.refreshToken),
  };
}

export interface ChildApp {
  url: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

const SERVER_ENTRY = path.join(__dirname, '..', 'src', 'server.ts');

/** The real entry point in its own process (for SIGKILL/SIGTERM drills), on a fixed port. */
export async function spawnApp(env: Record<string, string>, port: number): Promise<ChildApp> {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER_ENTRY], {
    env: { ...process.env, ...env, PORT: String(port) },
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
    if (child.exitCode !== null) throw new Error(`app exited at start: ${stderr}`);
    const ok = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { url, child, exited };
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`app did not answer within 20 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
