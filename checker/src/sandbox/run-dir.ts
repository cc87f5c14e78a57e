import { randomBytes } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  rmSync,
  symlinkSync,
  chmodSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { copyWorkspace } from '../workspace/copy';
import { orphaned, ownerTag } from './owner';
import type { RunUser } from './run-user';

/** Files of the course root a workspace inside the course may use (tsconfigs extend it); nothing else outside the workspace is copied. */
export const COURSE_SHARED_FILES = ['tsconfig.base.json'];

/**
 * A contained run's private folder, owned by the run's uid (0700): the workspace's copy, a HOME
 * and a TMPDIR. A workspace inside the course monorepo keeps its place relative to the course
 * root (course/<its path>), next to a link to the course's node_modules (hoisted dependencies,
 * no registry install) and the allow-listed shared files.
 */
export interface RunDir {
  readonly root: string;
  readonly appDir: string;
  readonly home: string;
  readonly tmp: string;
  /** Paths outside the run dir that it links to (the course's node_modules), which the run must see. */
  readonly linked: string[];
  /** Removes the folder; its files go through the thread pool, off the event loop, where other teardown goes on. */
  dispose(): Promise<void>;
}

export function runDirsBase(): string {
  return path.join(os.tmpdir(), 'backend-sandbox-apps');
}

/** Run dirs of checkers that died (owner tag in the name). */
export function sweepRunDirs(): void {
  let names: string[] = [];
  try {
    names = readdirSync(runDirsBase());
  } catch {
    return;
  }
  for (const n of names)
    if (orphaned(n)) rmSync(path.join(runDirsBase(), n), { recursive: true, force: true });
}

export function chownTree(dir: string, user: RunUser): void {
  lchownSync(dir, user.uid, user.gid);
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    const st = lstatSync(p);
    if (st.isDirectory()) chownTree(p, user);
    else if (st.nlink === 1) lchownSync(p, user.uid, user.gid);
    // A file with other links is shared (a cached dependency): it stays the checker's, read-only.
  }
}

export function makeRunDir(workspace: string, user: RunUser, course: string | undefined): RunDir {
  sweepRunDirs();
  mkdirSync(runDirsBase(), { recursive: true, mode: 0o711 });
  chmodSync(runDirsBase(), 0o711);
  const root = path.join(runDirsBase(), `${ownerTag()}-${randomBytes(4).toString('hex')}`);
  mkdirSync(root, { mode: 0o700 });
  try {
    const rel = course ? path.relative(course, workspace) : '..';
    const inCourse =
      course !== undefined && rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
    let appDir = path.join(root, 'app');
    const linked: string[] = [];
    if (inCourse) {
      const mirror = path.join(root, 'course');
      appDir = path.join(mirror, rel);
      mkdirSync(appDir, { recursive: true, mode: 0o755 });
      if (existsSync(path.join(course, 'node_modules'))) {
        symlinkSync(path.join(course, 'node_modules'), path.join(mirror, 'node_modules'));
        linked.push(path.join(course, 'node_modules'));
      }
      for (const f of COURSE_SHARED_FILES)
        if (existsSync(path.join(course, f)))
          copyFileSync(path.join(course, f), path.join(mirror, f));
    } else mkdirSync(appDir, { mode: 0o755 });
    copyWorkspace(workspace, appDir);
    const home = path.join(root, 'home');
    const tmp = path.join(root, 'tmp');
    mkdirSync(home, { mode: 0o700 });
    mkdirSync(tmp, { mode: 0o700 });
    chownTree(root, user);
    return {
      root,
      appDir,
      home,
      tmp,
      linked,
      dispose: () => rm(root, { recursive: true, force: true }),
    };
  } catch (e) {
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
}
