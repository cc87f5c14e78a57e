import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { orphaned, ownerTag } from '../../sandbox/owner';
import { COPY_LIMITS, copyWorkspace, isInside } from '../../workspace/copy';
import { allowListedCourseFiles, courseRoot } from '../course-files';
import { courseDevDependencies } from './course-dev-dependencies';

/** Where tsconfig files the course shares (allow-listed) are put inside the context. */
const INLINED_DIR = '.sandbox-extends';
const MANIFESTS = ['package.json', 'package-lock.json', 'npm-shrinkwrap.json'];

/**
 * What the image is built from: the workspace copied by workspace/copy.ts (links kept only when they
 * stay inside, modes normalised: uid 10001 reads the copy, hashed as it is copied), plus nothing
 * from outside but the course's allow-listed files.
 * `app/` is the whole copy (the build stage's input); `deps/` holds its manifests only (the
 * dependency stage never sees sources).
 */
export interface BuildContext {
  readonly dir: string;
  readonly appDir: string;
  readonly depsDir: string;
  /** Hash of everything in app/ (names, modes, contents, link targets). */
  readonly hash: string;
  /** Hash of the manifests in deps/. */
  readonly depsHash: string;
  /** What was left out, for the progress line (links pointing outside, special files). */
  readonly refused: string[];
  remove(): void;
}

/** Build contexts are named after their owner, so a killed checker's are swept (sweepBuildContexts). */
const CONTEXT_PREFIX = 'sandbox-build-';

/** Removes the build contexts of checkers that are gone (killed in the middle of a build). */
export function sweepBuildContexts(): number {
  let removed = 0;
  for (const name of fs.readdirSync(os.tmpdir())) {
    if (!name.startsWith(CONTEXT_PREFIX)) continue;
    if (!orphaned(name.slice(CONTEXT_PREFIX.length))) continue;
    fs.rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

export function maxContextBytes(env: NodeJS.ProcessEnv = process.env): number {
  const mb = Number(env.SANDBOX_CONTAINER_MAX_CONTEXT_MB);
  return (Number.isFinite(mb) && mb > 0 ? mb : 256) * 1024 * 1024;
}

/** Reads a regular file without following a link put in its place since it was listed. */
function readNoFollow(file: string): Buffer {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

type Json = Record<string, unknown>;

function readJson(file: string): Json | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Json;
  } catch {
    return undefined; // missing, or JSON with comments: left as it is
  }
}

/**
 * A tsconfig `extends` that leaves the workspace is inlined only when it is one of the course's
 * allow-listed files (the reference-app's ../tsconfig.base.json); any other is left untouched, so
 * the build fails with the compiler's own message and nothing outside is read.
 */
function inlineCourseExtends(workspace: string, appDir: string, hash: Hash): void {
  const allowed = new Set(allowListedCourseFiles());
  for (const file of fs.readdirSync(appDir).filter((f) => /^tsconfig.*\.json$/.test(f))) {
    const configPath = path.join(appDir, file);
    if (fs.lstatSync(configPath).isSymbolicLink()) continue;
    const config = readJson(configPath);
    if (typeof config?.extends !== 'string' || !config.extends.startsWith('.')) continue;
    const target = path.resolve(workspace, config.extends);
    if (isInside(workspace, target) || !allowed.has(target)) continue;
    const data = readNoFollow(target);
    const copy = path.join(INLINED_DIR, path.basename(target));
    fs.mkdirSync(path.join(appDir, INLINED_DIR), { recursive: true, mode: 0o755 });
    fs.writeFileSync(path.join(appDir, copy), data, { mode: 0o644 });
    fs.writeFileSync(
      configPath,
      `${JSON.stringify({ ...config, extends: `./${copy}` }, null, 2)}\n`,
    );
    hash.update(`extends\0${file}\0`).update(data);
  }
}

/** The course's own workspaces (reference-app) rely on tools the course root installs; a learner's never do. */
function addCourseDevDependencies(workspace: string, appDir: string, hash: Hash): void {
  const root = courseRoot();
  if (!isInside(root, workspace) || workspace === root) return;
  const pkgFile = path.join(appDir, 'package.json');
  if (!fs.existsSync(pkgFile) || fs.lstatSync(pkgFile).isSymbolicLink()) return;
  const needed = courseDevDependencies(root, appDir);
  if (!Object.keys(needed).length) return;
  const pkg = readJson(pkgFile) ?? {};
  const own = (pkg.devDependencies ?? {}) as Record<string, string>;
  pkg.devDependencies = { ...own, ...needed };
  fs.writeFileSync(pkgFile, `${JSON.stringify(pkg, null, 2)}\n`);
  hash.update(`course-dev\0${JSON.stringify(needed)}`);
}

export function makeBuildContext(workspace: string, salt: string): BuildContext {
  const from = fs.realpathSync(workspace);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${CONTEXT_PREFIX}${ownerTag()}-`));
  fs.chmodSync(dir, 0o755); // the stages read it as uid 10001 through a read-only mount
  const appDir = path.join(dir, 'app');
  const depsDir = path.join(dir, 'deps');
  const remove = (): void => fs.rmSync(dir, { recursive: true, force: true });
  try {
    fs.mkdirSync(appDir, { mode: 0o755 });
    fs.mkdirSync(depsDir, { mode: 0o755 });
    const hash = createHash('sha256').update(salt);
    const copied = copyWorkspace(from, appDir, {
      links: 'inside',
      modes: 'normalise',
      limits: { files: COPY_LIMITS.files, bytes: maxContextBytes() },
      hash,
    });
    inlineCourseExtends(from, appDir, hash);
    addCourseDevDependencies(from, appDir, hash);
    const depsHash = createHash('sha256').update(salt);
    for (const name of MANIFESTS) {
      const file = path.join(appDir, name);
      const st = fs.lstatSync(file, { throwIfNoEntry: false });
      if (!st?.isFile()) continue;
      const data = fs.readFileSync(file);
      fs.writeFileSync(path.join(depsDir, name), data, { mode: 0o644 });
      depsHash.update(`${name}\0`).update(data);
    }
    return {
      dir,
      appDir,
      depsDir,
      hash: hash.digest('hex').slice(0, 16),
      depsHash: depsHash.digest('hex').slice(0, 16),
      refused: copied.refused,
      remove,
    };
  } catch (e) {
    remove();
    throw e;
  }
}
