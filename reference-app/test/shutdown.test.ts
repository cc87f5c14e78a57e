import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { testEnv } from './support/app';
import { createTestDatabase, type TestDatabase } from './support/database';

const APP_DIR = join(__dirname, '..');

// Each test starts a real node process (tsx compiles on the fly): seconds on a busy machine.
jest.setTimeout(40_000);

/** Runs src/server.ts as a real process (node + tsx), as `npm start` would, and waits for it to listen. */
async function spawnServer(
  env: NodeJS.ProcessEnv,
): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: APP_DIR,
    env: { ...process.env, ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"port":(\d+),"msg":"listening"/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
  return { child, port, output: () => output };
}

const exitCode = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });

describe('step 1: graceful shutdown of the real process', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.drop());

  it('on SIGTERM finishes the request in flight, then exits 0 within 5 s', async () => {
    const { child, port } = await spawnServer(testEnv({ DATABASE_URL: database.url }));
    const body = JSON.stringify({ email: 'not-an-email', password: 'x' });

    // A request whose body is only half sent: accepted, not yet answered.
    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        {
          port,
          method: 'POST',
          path: '/auth/signup',
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 10));
      setTimeout(() => {
        child.kill('SIGTERM');
        // The rest of the body arrives after the signal: the server must still read and answer it.
        setTimeout(() => req.end(body.slice(10)), 300);
      }, 200);
    });

    const started = Date.now();
    const answer = await response;
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.text)).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    expect(await exitCode(child)).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('refuses to start with a message naming a bad variable, exit code 1', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: APP_DIR,
      env: { ...process.env, ...testEnv({ DATABASE_URL: database.url, JWT_SECRET: 'too-short' }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    expect(await exitCode(child)).toBe(1);
    expect(stderr).toContain('JWT_SECRET');
  });
});
