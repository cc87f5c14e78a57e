import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_LIMITS } from '../../../src/cohort/archive/limits';
import { packWorkspace } from '../../../src/cohort/archive/pack';
import { json, type TestService } from './service';

const CLI = path.join(__dirname, '..', '..', '..', 'bin', 'sandbox.js');

/** A step-1 app without dependencies (its container build is quick): health, JSON 404 and request ids; no BAD_JSON. */
const TINY_SERVER = `const http = require('node:http');
const { randomUUID } = require('node:crypto');
const server = http.createServer((req, res) => {
  const id = /^[A-Za-z0-9._-]{1,128}$/.test(req.headers['x-request-id'] || '') ? req.headers['x-request-id'] : randomUUID();
  res.setHeader('x-request-id', id);
  res.setHeader('content-type', 'application/json');
  if (req.method === 'GET' && req.url === '/health') return res.end(JSON.stringify({ status: 'ok' }));
  res.statusCode = 404;
  res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no such route' } }));
});
server.listen(Number(process.env.PORT));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

/** A packed tiny workspace; `variant` changes its content (a new submission) but not what it does. */
export async function tinyArchive(variant: string): Promise<{ archive: Buffer; sha256: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cohort-tiny-'));
  try {
    const pkg = {
      name: 'tiny-step-1',
      version: '1.0.0',
      private: true,
      scripts: { start: 'node server.js' },
    };
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg));
    writeFileSync(
      path.join(dir, 'package-lock.json'),
      JSON.stringify({
        name: pkg.name,
        version: pkg.version,
        lockfileVersion: 3,
        requires: true,
        packages: { '': { name: pkg.name, version: pkg.version } },
      }),
    );
    writeFileSync(path.join(dir, 'server.js'), `${TINY_SERVER}// ${variant}\n`);
    const packed = await packWorkspace(dir, DEFAULT_LIMITS);
    return {
      archive: packed.archive,
      sha256: createHash('sha256').update(packed.archive).digest('hex'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  output(): string;
  exited: Promise<number | null>;
}

/** `sandbox worker` as its own process (the built CLI: `npm run build` first), in the given runtime. */
export function spawnWorker(
  env: Record<string, string>,
  concurrency = 1,
  drainSeconds = 120,
  runtime: 'process' | 'container' | 'auto' = 'container',
): Promise<WorkerProcess> {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'worker',
      '--runtime',
      runtime,
      '--concurrency',
      String(concurrency),
      '--drain-seconds',
      String(drainSeconds),
    ],
    {
      env: { ...process.env, ...env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the worker did not start:\n${out}`)), 30_000);
    const onData = (): void => {
      if (!out.includes('takes jobs from')) return;
      clearTimeout(timer);
      resolve({ child, pid: child.pid!, output: () => out, exited });
    };
    child.stderr.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the worker exited while starting:\n${out}`));
    });
  });
}

/** Pids of the processes whose parent is `pid` (the worker's grading children). */
export function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** A worker's grading children (not the short-lived helpers its engine client may spawn). */
function gradingChildren(pid: number): number[] {
  return childrenOf(pid).filter((child) => {
    try {
      return readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('grade-child');
    } catch {
      return false;
    }
  });
}

/** The grading child(ren) of a worker, once it has one (it starts after the services are taken), then 1.5 s into the grading. */
export async function gradingChildrenOf(pid: number, ms = 120_000): Promise<number[]> {
  const deadline = Date.now() + ms;
  while (gradingChildren(pid).length === 0 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1500)); // well into the grading
  return gradingChildren(pid);
}

export const uniqueName = (prefix: string): string => `${prefix}-${randomBytes(3).toString('hex')}`;

/** A tiny step-1 submission from this learner, accepted (202); its id. */
export async function submitTiny(
  service: TestService,
  learnerToken: string,
  variant: string,
): Promise<string> {
  const { archive, sha256 } = await tinyArchive(variant);
  const r = await json<{ submission: { id: string } }>(service.url, 'POST', '/api/submissions', {
    token: learnerToken,
    raw: archive,
    headers: { 'x-sandbox-sha256': sha256, 'x-sandbox-step': '1' },
  });
  expect(r.status).toBe(202);
  return r.body.submission.id;
}

/** SIGTERM to every worker still running (it stops its services itself); SIGKILL to one not gone within 60 s. */
export async function stopWorkers(workers: WorkerProcess[]): Promise<void> {
  await Promise.all(
    workers.map(async (w) => {
      if (w.child.exitCode !== null || w.child.signalCode !== null) return;
      w.child.kill('SIGTERM');
      const timer = setTimeout(() => w.child.kill('SIGKILL'), 60_000);
      await w.exited;
      clearTimeout(timer);
    }),
  );
}
