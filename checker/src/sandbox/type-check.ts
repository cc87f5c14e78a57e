import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { TypeCheckDiagnostic, TypeCheckResult } from '../results/types';
import { cacheDir } from '../services/cache-dir';
import type { Workspace } from '../workspace/workspace';
import type { AppSandbox } from './limits';
import { runCommand } from './run-command';

/** The first errors kept in the result (errorCount has them all). */
export const MAX_DIAGNOSTICS = 10;
export const TYPE_CHECK_TIMEOUT_MS = 2 * 60_000;
const MAX_FILE_CHARS = 300;
const MAX_MESSAGE_CHARS = 600;
/** Results kept for unchanged sources; the oldest go beyond this many. */
const KEPT_RESULTS = 40;

/** `src/a.ts(3,7): error TS2322: ...` and `error TS5023: ...` (tsc --pretty false). */
const LOCATED = /^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$/;
const UNLOCATED = /^error (TS\d+): (.*)$/;

/**
 * Reads tsc's output as it arrives: counts every error and keeps the first MAX_DIAGNOSTICS, with
 * their continuation lines (indented). Bounded whatever the output: it is the workspace's.
 */
export class TscOutput {
  errorCount = 0;
  readonly errors: TypeCheckDiagnostic[] = [];
  private partial = '';
  private current: TypeCheckDiagnostic | undefined;

  push(chunk: Buffer | string): void {
    const lines = (this.partial + chunk.toString()).split('\n');
    this.partial = (lines.pop() ?? '').slice(0, 64 * 1024);
    for (const line of lines) this.line(line.replace(/\r$/, ''));
  }

  end(): void {
    if (this.partial) this.line(this.partial);
    this.partial = '';
  }

  private line(line: string): void {
    const located = LOCATED.exec(line);
    const unlocated = located ? null : UNLOCATED.exec(line);
    if (located || unlocated) {
      this.errorCount++;
      this.current = undefined;
      if (this.errors.length >= MAX_DIAGNOSTICS) return;
      this.current = located
        ? {
            file: located[1]!.slice(0, MAX_FILE_CHARS),
            line: Number(located[2]),
            column: Number(located[3]),
            code: located[4]!,
            message: located[5]!.slice(0, MAX_MESSAGE_CHARS),
          }
        : {
            file: '',
            line: 0,
            column: 0,
            code: unlocated![1]!,
            message: unlocated![2]!.slice(0, MAX_MESSAGE_CHARS),
          };
      this.errors.push(this.current);
      return;
    }
    if (this.current && /^\s+\S/.test(line) && this.current.message.length < MAX_MESSAGE_CHARS)
      this.current.message = `${this.current.message}\n${line.trimEnd()}`.slice(
        0,
        MAX_MESSAGE_CHARS,
      );
  }
}

/** True when the workspace has a tsconfig.json and TypeScript resolves from it (its own, or the course's hoisted one). */
export function canTypeCheck(ws: Workspace): boolean {
  if (!existsSync(path.join(ws.dir, 'tsconfig.json'))) return false;
  try {
    createRequire(path.join(ws.dir, 'package.json')).resolve('typescript/package.json');
    return true;
  } catch {
    return false;
  }
}

/** The cache entry of a type check of exactly these sources (`key`: the caller's hash of them). */
function resultFile(key: string): string {
  return cacheDir('type-checks', `${key}.json`);
}

function cachedResult(key: string): TypeCheckResult | undefined {
  try {
    const r = JSON.parse(readFileSync(resultFile(key), 'utf8')) as Partial<TypeCheckResult>;
    if (
      (r.status !== 'pass' && r.status !== 'fail') ||
      typeof r.errorCount !== 'number' ||
      !Array.isArray(r.errors)
    )
      return undefined;
    return {
      status: r.status,
      errorCount: r.errorCount,
      errors: r.errors.slice(0, MAX_DIAGNOSTICS),
      durationMs: 0,
      cached: true,
    };
  } catch {
    return undefined;
  }
}

function storeResult(key: string, r: TypeCheckResult): void {
  try {
    const dir = path.dirname(resultFile(key));
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(resultFile(key), JSON.stringify(r));
    const entries = readdirSync(dir)
      .map((n) => ({ n, t: statSync(path.join(dir, n)).mtimeMs }))
      .sort((a, b) => b.t - a.t);
    for (const { n } of entries.slice(KEPT_RESULTS)) rmSync(path.join(dir, n), { force: true });
  } catch {
    // a full disk or a race with another run: the next check type-checks again
  }
}

/** The cache key of a type check: the caller's hash of the sources (and of the course files they read). */
export function typeCheckKey(sourcesHash: string): string {
  return createHash('sha256')
    .update('type-check-1\0')
    .update(sourcesHash)
    .digest('hex')
    .slice(0, 32);
}

export interface TypeCheckOptions {
  ws: Workspace;
  /** typeCheckKey() of the sources: an unchanged workspace is not type-checked again. */
  key: string;
  env: NodeJS.ProcessEnv;
  /** Where tsc keeps its incremental state (outside the workspace: the build output's hash must not change). */
  buildInfoFile: string;
  /** Contained runs: the run's sandbox (its uid, offline, its limits), as for the build. */
  sandbox?: AppSandbox;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/**
 * `tsc --noEmit -p tsconfig.json` from the workspace's own TypeScript (node_modules/.bin on PATH,
 * as npm would). It runs beside the checks like any process of the run (a contained run's cgroups
 * give it one core at most): a lower priority starved it on a busy machine and made the run wait.
 */
export async function typeCheck(o: TypeCheckOptions): Promise<TypeCheckResult> {
  const cached = cachedResult(o.key);
  if (cached) return cached;
  const started = performance.now();
  const out = new TscOutput();
  const args = ['--noEmit', '-p', 'tsconfig.json', '--pretty', 'false'];
  args.push('--incremental', '--tsBuildInfoFile', o.buildInfoFile);
  const timeoutMs = o.timeoutMs ?? TYPE_CHECK_TIMEOUT_MS;
  const r = await runCommand('tsc', args, {
    cwd: o.ws.dir,
    env: o.env,
    timeoutMs,
    onOutput: (chunk) => out.push(chunk),
    ...(o.sandbox ? { sandbox: o.sandbox } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  out.end();
  const durationMs = Math.round(performance.now() - started);
  const base = { errorCount: out.errorCount, errors: out.errors, durationMs, cached: false };
  if (r.timedOut)
    return {
      ...base,
      status: 'error',
      message: `tsc did not finish within ${timeoutMs / 1000} s.`,
    };
  if (o.signal?.aborted) return { ...base, status: 'error', message: 'stopped with the run.' };
  // tsc exits 0 without errors, 1 or 2 with them; anything else (a crash, a missing tsc) is no verdict.
  const result: TypeCheckResult =
    r.code === 0 && out.errorCount === 0
      ? { ...base, status: 'pass' }
      : (r.code === 1 || r.code === 2) && out.errorCount > 0
        ? { ...base, status: 'fail' }
        : {
            ...base,
            status: 'error',
            message: `tsc --noEmit ended with exit ${r.code ?? 'by a signal'} without a list of errors: ${lastLine(r.output)}`,
          };
  if (result.status !== 'error') storeResult(o.key, result);
  return result;
}

function lastLine(output: string): string {
  const line = output.trim().split('\n').at(-1) ?? '';
  return line.slice(0, MAX_MESSAGE_CHARS) || '(no output)';
}
