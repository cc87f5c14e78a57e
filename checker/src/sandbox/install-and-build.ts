import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { cacheDir } from '../services/cache-dir';
import { binPath, isSimpleCommand } from './app-process';
import { runCommand } from './run-command';
import { SetupError } from '../app/setup-error';
import { workspaceHash } from '../workspace/hash';
import type { Workspace } from '../workspace/workspace';
import type { TypeCheckResult } from '../results/types';
import { canTypeCheck, typeCheck, typeCheckKey } from './type-check';

export const INSTALL_TIMEOUT_MS = 5 * 60_000;
export const BUILD_TIMEOUT_MS = 2 * 60_000;

/** True when every dependency resolves by Node's lookup from the workspace (covers hoisted monorepo installs). */
export function dependenciesResolvable(ws: Workspace): boolean {
  const req = createRequire(path.join(ws.dir, 'package.json'));
  const names = [
    ...Object.keys(ws.pkg.dependencies ?? {}),
    ...Object.keys(ws.pkg.devDependencies ?? {}),
  ];
  return names.every((name) => {
    try {
      req.resolve(`${name}/package.json`);
      return true;
    } catch {
      // Packages whose exports hide package.json: look for the folder instead.
      return req.resolve.paths(name)?.some((p) => existsSync(path.join(p, name))) ?? false;
    }
  });
}

export async function installDependencies(
  ws: Workspace,
  onProgress?: (m: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  if (dependenciesResolvable(ws)) return;
  const args = ws.hasLockFile
    ? ['ci', '--no-audit', '--no-fund']
    : ['install', '--no-audit', '--no-fund'];
  onProgress?.(`npm ${args[0]}...`);
  const r = await runCommand('npm', args, {
    cwd: ws.dir,
    timeoutMs: INSTALL_TIMEOUT_MS,
    ...(signal ? { signal } : {}),
  });
  if (r.timedOut)
    throw new SetupError(
      'submission',
      'INSTALL_TIMEOUT',
      `npm ${args[0]} did not finish within ${INSTALL_TIMEOUT_MS / 1000} s. Check your network and your package.json.`,
      r.output,
    );
  if (r.code !== 0)
    throw new SetupError(
      'submission',
      'INSTALL_FAILED',
      `npm ${args[0]} failed (exit ${r.code}). Run it yourself in your workspace and fix the error it prints.`,
      r.output,
    );
}

/**
 * `npm run build`, as npm would run it. A build script that is one simple command (the starter's
 * `esbuild "src/**\/*.ts" ...`) with no prebuild or postbuild script is exec'd directly (`direct`),
 * with node_modules/.bin on PATH: the same build without npm's own start-up (about 0.3 s of CPU on
 * every re-check, more than esbuild takes). The caller gives the env: PATH from binPath(), and
 * with `direct` the npm_lifecycle_event npm would set.
 */
export function buildCommand(ws: Workspace): { command: string; args: string[]; direct: boolean } {
  const scripts = ws.pkg.scripts ?? {};
  const script = scripts['build']?.trim() ?? '';
  if (!isSimpleCommand(script) || scripts['prebuild'] || scripts['postbuild'])
    return { command: 'npm', args: ['run', 'build'], direct: false };
  return { command: '/bin/sh', args: ['-c', `exec ${script}`], direct: true };
}

export async function buildIfNeeded(
  ws: Workspace,
  onProgress?: (m: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  if (!ws.hasBuild) return;
  const stamp = cacheDir(
    'builds',
    `${createHash('sha256').update(ws.dir).digest('hex').slice(0, 16)}.hash`,
  );
  if (
    existsSync(stamp) &&
    readFileSync(stamp, 'utf8') === workspaceHash(ws.dir, { withBuildOutput: true })
  )
    return;
  onProgress?.('npm run build...');
  const build = buildCommand(ws);
  const r = await runCommand(build.command, build.args, {
    cwd: ws.dir,
    timeoutMs: BUILD_TIMEOUT_MS,
    ...(build.direct
      ? { env: { ...process.env, PATH: binPath(ws.dir), npm_lifecycle_event: 'build' } }
      : {}),
    ...(signal ? { signal } : {}),
  });
  if (r.timedOut)
    throw new SetupError(
      'submission',
      'BUILD_TIMEOUT',
      `npm run build did not finish within ${BUILD_TIMEOUT_MS / 1000} s.`,
      r.output,
    );
  if (r.code !== 0)
    throw new SetupError(
      'submission',
      'BUILD_FAILED',
      `npm run build failed (exit ${r.code}). Run it in your workspace and fix the errors it prints.`,
      r.output,
    );
  mkdirSync(path.dirname(stamp), { recursive: true });
  writeFileSync(stamp, workspaceHash(ws.dir, { withBuildOutput: true }));
}

/**
 * The workspace's `tsc --noEmit`, as the checker's user (an uncontained run: the learner's own
 * workspace), beside the checks. Its incremental state lives in the checker's cache, so a check
 * after a one-line edit re-checks little, and the build output (hashed above) is left alone.
 */
export async function typeCheckIfNeeded(
  ws: Workspace,
  signal?: AbortSignal,
): Promise<TypeCheckResult | undefined> {
  if (!canTypeCheck(ws)) return undefined;
  const dirKey = createHash('sha256').update(ws.dir).digest('hex').slice(0, 16);
  const buildInfoFile = cacheDir('type-check-state', `${dirKey}.tsbuildinfo`);
  mkdirSync(path.dirname(buildInfoFile), { recursive: true });
  return typeCheck({
    ws,
    key: typeCheckKey(workspaceHash(ws.dir)),
    env: { ...process.env, PATH: binPath(ws.dir) },
    buildInfoFile,
    ...(signal ? { signal } : {}),
  });
}
