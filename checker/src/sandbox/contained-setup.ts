import { createHash, randomBytes } from 'node:crypto';
import {
  cpSync,
  lstatSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { SetupError } from '../app/setup-error';
import { cacheDir } from '../services/cache-dir';
import { workspaceHash } from '../workspace/hash';
import type { Workspace } from '../workspace/workspace';
import { baseEnv } from './app-process';
import { dependencyCacheKey, restoreDependencies, storeDependencies } from './dependency-cache';
import { assertRegistryOnly } from './dependency-sources';
import {
  BUILD_TIMEOUT_MS,
  buildCommand,
  dependenciesResolvable,
  INSTALL_TIMEOUT_MS,
} from './install-and-build';
import type { TypeCheckResult } from '../results/types';
import { DISK_MAX_BYTES, type AppSandbox } from './limits';
import { confinementFailed } from './confined-sandbox';
import { chownTree } from './run-dir';
import { runCommand, type CommandResult } from './run-command';
import type { RunUser } from './run-user';
import { canTypeCheck, typeCheck, typeCheckKey } from './type-check';

export interface ContainedSetup {
  /** The workspace's copy in the run dir. */
  ws: Workspace;
  user: RunUser;
  /** Files outside the copy that its build reads (the course's shared files, lock): part of the build cache key. */
  inputs: string[];
  /** A sandbox of the run, offline; `readOnly`: the copy read-only, writes only to a private /tmp. */
  sandbox(opts?: { readOnly?: boolean }): AppSandbox;
  onProgress?: (m: string) => void;
  signal?: AbortSignal;
}

/** Builds kept for reuse; the oldest go beyond this many. */
const KEPT_BUILDS = 40;

function sandboxEnv(s: AppSandbox, dir: string): NodeJS.ProcessEnv {
  return {
    ...baseEnv(dir, s),
    npm_config_cache: path.join(s.home ?? dir, '.npm'),
    npm_config_offline: 'true',
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
  };
}

function failed(
  r: CommandResult,
  what: string,
  code: string,
  timeoutMs: number,
  sandbox?: AppSandbox,
): SetupError {
  const confinement = sandbox?.setupFailure?.();
  if (confinement !== undefined) return confinementFailed(confinement);
  if (r.overDiskBudget)
    return new SetupError(
      'submission',
      `${code}_DISK_LIMIT`,
      `${what} wrote more than ${DISK_MAX_BYTES / 1024 ** 3} GiB into the workspace's copy and was stopped. Check what it writes (npm run ${code === 'BUILD' ? 'build' : 'install scripts'} in your workspace, then du -sh *).`,
      r.output,
    );
  return r.timedOut
    ? new SetupError(
        'submission',
        `${code}_TIMEOUT`,
        `${what} did not finish within ${timeoutMs / 1000} s.`,
        r.output,
      )
    : new SetupError(
        'submission',
        `${code}_FAILED`,
        `${what} failed (exit ${r.code}). Run it in your workspace and fix the errors it prints.`,
        r.output,
      );
}

/**
 * Dependencies for a contained run. npm (trusted) resolves and fetches them as the checker with
 * --ignore-scripts, so no script of the workspace or of a package runs with network; then
 * `npm rebuild` runs the packages' own install scripts, and the workspace's own preinstall,
 * install, postinstall and prepare scripts run, as the run's uid, offline. A workspace whose
 * dependencies already resolve (hoisted in the course monorepo) fetches nothing. A tree installed
 * from the same lock before is linked from the checker's cache instead (dependency-cache.ts).
 */
export async function installContained(s: ContainedSetup): Promise<void> {
  if (!dependenciesResolvable(s.ws)) await fetchAndRebuild(s);
  await ownLifecycleScripts(s);
}

/** The workspace's own install-time scripts, in npm's order, offline, as the run's uid. */
async function ownLifecycleScripts(s: ContainedSetup): Promise<void> {
  const scripts = s.ws.pkg.scripts ?? {};
  for (const name of ['preinstall', 'install', 'postinstall', 'prepare']) {
    if (!scripts[name]?.trim()) continue;
    s.onProgress?.(`npm run ${name}...`);
    const sandbox = s.sandbox();
    try {
      const r = await runCommand('npm', ['run', name], {
        cwd: s.ws.dir,
        env: sandboxEnv(sandbox, s.ws.dir),
        timeoutMs: INSTALL_TIMEOUT_MS,
        sandbox,
        ...(s.signal ? { signal: s.signal } : {}),
      });
      if (r.code !== 0) throw failed(r, `npm run ${name}`, 'INSTALL', INSTALL_TIMEOUT_MS, sandbox);
    } finally {
      sandbox.dispose();
    }
  }
}

async function fetchAndRebuild(s: ContainedSetup): Promise<void> {
  const key = dependencyCacheKey(s.ws);
  if (key && (await restoreDependencies(key, s.ws.dir))) {
    chownTree(s.ws.dir, s.user);
    return;
  }
  assertRegistryOnly(s.ws); // npm runs as the checker, with the machine's network
  const verb = s.ws.hasLockFile ? 'ci' : 'install';
  const why = s.ws.hasLockFile
    ? ''
    : ' (no package-lock.json: every run installs again; keep the lock npm install writes)';
  s.onProgress?.(`npm ${verb} --ignore-scripts${why}...`);
  const fetched = await runCommand('npm', [verb, '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: s.ws.dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' },
    timeoutMs: INSTALL_TIMEOUT_MS,
    ...(s.signal ? { signal: s.signal } : {}),
  });
  if (fetched.code !== 0) throw failed(fetched, `npm ${verb}`, 'INSTALL', INSTALL_TIMEOUT_MS);
  chownTree(s.ws.dir, s.user);
  const sandbox = s.sandbox();
  try {
    const rebuilt = await runCommand('npm', ['rebuild'], {
      cwd: s.ws.dir,
      env: sandboxEnv(sandbox, s.ws.dir),
      timeoutMs: INSTALL_TIMEOUT_MS,
      sandbox,
      ...(s.signal ? { signal: s.signal } : {}),
    });
    if (rebuilt.code !== 0)
      throw failed(rebuilt, 'npm rebuild', 'INSTALL', INSTALL_TIMEOUT_MS, sandbox);
  } finally {
    sandbox.dispose();
  }
  if (key) await storeDependencies(key, s.ws.dir);
}

/**
 * Adds what the cached build has and the fresh copy lacks (its output; a file the build changed),
 * never writing through a link: an entry in the way that is not the same kind is removed first.
 */
function addBuildOutput(from: string, to: string): void {
  for (const name of readdirSync(from)) {
    if (name === '.complete') continue;
    const src = path.join(from, name);
    const dest = path.join(to, name);
    const have = lstatSync(dest, { throwIfNoEntry: false });
    const want = lstatSync(src);
    if (have?.isDirectory() && want.isDirectory()) {
      addBuildOutput(src, dest);
      continue;
    }
    if (have?.isFile() && want.isFile() && have.size === want.size) continue; // the same source
    if (have) rmSync(dest, { recursive: true, force: true });
    cpSync(src, dest, { recursive: true, verbatimSymlinks: true });
  }
}

/** Keys already computed for a set-up: the type check and the build hash the same copy of the sources. */
const buildKeys = new WeakMap<ContainedSetup, string>();

function buildKey(s: ContainedSetup): string {
  const known = buildKeys.get(s);
  if (known) return known;
  const h = createHash('sha256').update('contained-build-1\0').update(workspaceHash(s.ws.dir));
  for (const f of s.inputs) if (existsSync(f)) h.update(`${f}\0`).update(readFileSync(f));
  const key = h.digest('hex').slice(0, 32);
  buildKeys.set(s, key);
  return key;
}

function pruneBuilds(dir: string): void {
  const entries = readdirSync(dir)
    .map((n) => ({ n, t: statSync(path.join(dir, n)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const { n } of entries.slice(KEPT_BUILDS))
    rmSync(path.join(dir, n), { recursive: true, force: true });
}

/**
 * `npm run build` as the run's uid, offline, in the run's sandbox (a simple build script exec'd
 * without npm, as buildCommand() says). Its output is kept by the
 * checker under the hash of exactly the sources it was built from (and the course files the
 * build reads), so the same sources graded again reuse it instead of building again.
 */
export async function buildContained(s: ContainedSetup): Promise<void> {
  if (!s.ws.hasBuild) return;
  const builds = cacheDir('contained-builds');
  mkdirSync(builds, { recursive: true, mode: 0o700 });
  const key = buildKey(s);
  const cached = path.join(builds, key);
  if (existsSync(path.join(cached, '.complete'))) {
    addBuildOutput(cached, s.ws.dir);
    chownTree(s.ws.dir, s.user);
    return;
  }
  s.onProgress?.('npm run build...');
  const sandbox = s.sandbox();
  try {
    const build = buildCommand(s.ws);
    const r = await runCommand(build.command, build.args, {
      cwd: s.ws.dir,
      env: {
        ...sandboxEnv(sandbox, s.ws.dir),
        ...(build.direct ? { npm_lifecycle_event: 'build' } : {}),
      },
      timeoutMs: BUILD_TIMEOUT_MS,
      sandbox,
      ...(s.signal ? { signal: s.signal } : {}),
    });
    if (r.code !== 0) throw failed(r, 'npm run build', 'BUILD', BUILD_TIMEOUT_MS, sandbox);
  } finally {
    sandbox.dispose();
  }
  const staging = `${cached}.tmp-${randomBytes(4).toString('hex')}`;
  try {
    cpSync(s.ws.dir, staging, {
      recursive: true,
      verbatimSymlinks: true,
      filter: (p) => path.basename(p) !== 'node_modules',
    });
    writeFileSync(path.join(staging, '.complete'), '');
    renameSync(staging, cached);
    pruneBuilds(builds);
  } catch {
    rmSync(staging, { recursive: true, force: true }); // another run stored it first, or the disk is full: not needed to grade
  }
}

/**
 * The workspace's `tsc --noEmit` in a sandbox of the run like the build's (the run's uid, offline,
 * its limits and time limit). Undefined when the workspace has no TypeScript
 * or no tsconfig.json. The same sources (build key) are not type-checked twice.
 */
export async function typeCheckContained(
  s: ContainedSetup,
  signal: AbortSignal,
): Promise<TypeCheckResult | undefined> {
  if (!canTypeCheck(s.ws)) return undefined;
  const sandbox = s.sandbox({ readOnly: true }); // tsc writes only its incremental state, to /tmp
  try {
    return await typeCheck({
      ws: s.ws,
      key: typeCheckKey(buildKey(s)),
      env: sandboxEnv(sandbox, s.ws.dir),
      buildInfoFile: path.join(sandbox.tmp ?? s.ws.dir, 'tsbuildinfo'),
      sandbox,
      signal,
    });
  } finally {
    sandbox.dispose();
  }
}
