import fs from 'node:fs';
import path from 'node:path';

/** The course's repository (the folder holding docker/images/build.sh), found from the checker's own files. */
export function courseRoot(): string {
  for (let dir = __dirname; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'docker', 'images', 'build.sh'))) return dir;
  }
  return process.cwd();
}

/**
 * The only files from outside a workspace that may enter its build: the course's own shared
 * tsconfig, which the course's reference-app extends. Nothing else outside the workspace is read.
 */
export function allowListedCourseFiles(root = courseRoot()): string[] {
  return ['tsconfig.base.json'].map((f) => path.join(root, f));
}

/** Dockerfiles and scripts of docker/ (the build's trusted inputs). */
export function dockerDir(root = courseRoot()): string {
  return path.join(root, 'docker');
}
