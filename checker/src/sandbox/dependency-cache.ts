import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { cacheDir } from '../services/cache-dir';
import { readWorkspaceText } from '../workspace/files';
import { LOCK_FILES, LOCK_MAX_BYTES, scanLock } from './dependency-sources';
import type { Workspace } from '../workspace/workspace';

const run = promisify(execFile);

/**
 * Installed dependency trees kept for reuse (about 70 MB each for the starter's, restored as hard
 * links); the least recently used go beyond this many. Every state of the course has the starter's
 * package.json, but a cohort's locks differ (npm install run on other days resolves other
 * versions, a learner adds a library): a worker grading them in turn keeps the ones in use.
 */
const KEPT_TREES = 16;

/** The scripts npm runs on install: a workspace with one of its own may change node_modules, so it is never cached. */
const OWN_INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall', 'prepare'];

/**
 * The cache key of a contained run's `node_modules`, or undefined when it may not be shared:
 * the tree must follow from the lock alone (npm ci), every locked package must come from a
 * registry (no `file:`, link or git entry whose content the lock does not pin), and the
 * workspace must run no install script of its own. The key covers package.json, the lock and
 * the Node.js version and platform the packages' own install scripts built for (the copy has no
 * `.npmrc`: workspace/generated.ts).
 */
export function dependencyCacheKey(ws: Workspace): string | undefined {
  if (!ws.hasLockFile) return undefined;
  if (OWN_INSTALL_SCRIPTS.some((s) => ws.pkg.scripts?.[s]?.trim())) return undefined;
  const lockName = LOCK_FILES.find((f) => existsSync(path.join(ws.dir, f)));
  const pkg = readWorkspaceText(ws.dir, 'package.json');
  const lock = lockName && readWorkspaceText(ws.dir, lockName, { maxBytes: LOCK_MAX_BYTES });
  if (pkg === undefined || !lock || !cacheable(lock)) return undefined;
  const h = createHash('sha256')
    .update(`contained-deps-1\0${process.version}\0${process.platform}\0${process.arch}\0`)
    .update(pkg)
    .update('\0')
    .update(lock);
  return h.digest('hex').slice(0, 32);
}

/** A lock of npm 7 or later whose every package comes from the registry, none from a folder (scanLock). */
function cacheable(lockText: string): boolean {
  let lock: unknown;
  try {
    lock = JSON.parse(lockText);
  } catch {
    return false; // npm ci will say what is wrong with it
  }
  const scan = scanLock(lock);
  return !scan.elsewhere && !scan.links && !scan.v1;
}

function treesDir(): string {
  return cacheDir('contained-dependencies');
}

/**
 * Puts the cached tree for `key` at `dir`/node_modules as hard links: files stay owned by the
 * checker and not writable by the run (chownTree leaves multiply-linked files alone), so a run
 * can replace a file in its copy but never change the cached one. False when there is none, or
 * when links cannot be made (another file system): the caller installs instead.
 */
export async function restoreDependencies(key: string, dir: string): Promise<boolean> {
  const tree = path.join(treesDir(), key);
  if (!existsSync(path.join(tree, '.complete'))) return false;
  const target = path.join(dir, 'node_modules');
  try {
    await run('cp', ['-al', path.join(tree, 'node_modules'), target]);
    markUsed(tree);
    return true;
  } catch {
    rmSync(target, { recursive: true, force: true });
    return false;
  }
}

/**
 * Keeps a copy of `dir`/node_modules (installed and rebuilt for this run) under `key`: copied as
 * the checker, so every file is the checker's, with nobody else allowed to write it. A failure
 * only means the next run installs again.
 */
export async function storeDependencies(key: string, dir: string): Promise<void> {
  const trees = treesDir();
  const staging = path.join(trees, `${key}.tmp-${randomBytes(4).toString('hex')}`);
  try {
    mkdirSync(staging, { recursive: true, mode: 0o700 });
    await run('cp', [
      '-R',
      '-P',
      '--preserve=mode,timestamps',
      path.join(dir, 'node_modules'),
      staging,
    ]);
    await run('chmod', ['-R', 'go-w', staging]);
    writeFileSync(path.join(staging, '.complete'), '');
    renameSync(staging, path.join(trees, key));
    prune(trees);
  } catch {
    rmSync(staging, { recursive: true, force: true }); // another run stored it first, or the disk is full
  }
}

/** Used now: prune() keeps the most recently used trees (a tree pruned meanwhile stays pruned). */
function markUsed(tree: string): void {
  const now = new Date();
  try {
    utimesSync(tree, now, now);
  } catch {
    // another run pruned it after the copy: the copy is complete all the same
  }
}

/** Keeps the KEPT_TREES most recently stored or restored trees. */
function prune(dir: string): void {
  const entries = readdirSync(dir)
    .filter((n) => !n.includes('.tmp-'))
    .map((n) => ({ n, t: statSync(path.join(dir, n)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const { n } of entries.slice(KEPT_TREES))
    rmSync(path.join(dir, n), { recursive: true, force: true });
}
