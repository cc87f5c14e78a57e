import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { SetupError } from '../app/setup-error';
import { readWorkspaceJson } from './files';

export interface PackageJson {
  name?: string;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

export interface Workspace {
  readonly dir: string;
  readonly pkg: PackageJson;
  readonly startScript: string;
  readonly hasBuild: boolean;
  readonly hasLockFile: boolean;
}

/** Checks that `dir` is an npm project with a start script, with messages that say what to do. */
export function readWorkspace(dir: string): Workspace {
  if (!path.isAbsolute(dir))
    throw new SetupError(
      'checker',
      'WORKSPACE_NOT_ABSOLUTE',
      `The workspace path must be absolute (got "${dir}").`,
    );
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new SetupError(
      'checker',
      'NO_WORKSPACE',
      `No workspace at ${dir}. Pass --workspace DIR, or run \`npx sandbox init\` to create one.`,
    );
  const pkgPath = path.join(dir, 'package.json');
  if (!existsSync(pkgPath))
    throw new SetupError(
      'submission',
      'NO_PACKAGE_JSON',
      `${dir} has no package.json. Your workspace must be an npm project (run \`npm init -y\` there, or start from \`npx sandbox init\`).`,
    );
  // Read without following a link, and never quoted in the message (the file is the learner's).
  const read = readWorkspaceJson(dir, 'package.json');
  if (!read.ok)
    throw new SetupError(
      'submission',
      'BAD_PACKAGE_JSON',
      `${read.missing ? 'package.json could not be read' : read.problem}. Fix it and check again.`,
    );
  const pkg = (
    typeof read.value === 'object' && read.value !== null ? read.value : {}
  ) as PackageJson;
  const startScript = pkg.scripts?.start;
  if (!startScript?.trim())
    throw new SetupError(
      'submission',
      'NO_START_SCRIPT',
      'package.json has no "start" script. Add one that starts your server, e.g. "scripts": { "start": "node dist/server.js" }.',
    );
  return {
    dir,
    pkg,
    startScript,
    hasBuild: Boolean(pkg.scripts?.build?.trim()),
    hasLockFile:
      existsSync(path.join(dir, 'package-lock.json')) ||
      existsSync(path.join(dir, 'npm-shrinkwrap.json')),
  };
}

/** An npm project with a start script (quietly: for "is the current folder a workspace?"). */
export function looksLikeWorkspace(dir: string): boolean {
  try {
    readWorkspace(path.resolve(dir));
    return true;
  } catch {
    return false;
  }
}
