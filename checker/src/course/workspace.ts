import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { looksLikeWorkspace } from '../workspace/workspace';
import { courseRoot } from './paths';
import { readWorkspaceJson } from '../workspace/files';

export { looksLikeWorkspace };

/** Where the course remembers the workspace made by `sandbox init`: .sandbox/ (gitignored), or $SANDBOX_STATE_DIR. */
const rememberedPath = (root: string): string =>
  join(process.env['SANDBOX_STATE_DIR'] ?? join(root, '.sandbox'), 'workspace.json');

export function rememberWorkspace(dir: string, root: string = courseRoot()): void {
  const path = rememberedPath(root);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify({ workspace: resolve(dir) }, null, 2)}\n`);
}

/**
 * The workspace a command works on: --workspace, else $SANDBOX_WORKSPACE, else the nearest folder
 * at or above the current one that is a workspace (not the course itself), else the one
 * `sandbox init` made.
 */
export function resolveWorkspace(
  flag?: string,
  root: string = courseRoot(),
  cwd: string = process.cwd(),
): string {
  if (flag) return resolve(cwd, flag);
  const fromEnv = process.env['SANDBOX_WORKSPACE'];
  if (fromEnv) return resolve(cwd, fromEnv);
  const around = enclosingWorkspace(resolve(cwd), root);
  if (around) return around;
  const remembered = rememberedWorkspace(root);
  return remembered ?? resolve(cwd);
}

function enclosingWorkspace(from: string, root: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    if (dir === root) return undefined;
    if (looksLikeWorkspace(dir)) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

function rememberedWorkspace(root: string): string | undefined {
  const path = rememberedPath(root);
  if (!existsSync(path)) return undefined;
  try {
    const { workspace } = JSON.parse(readFileSync(path, 'utf8')) as { workspace?: unknown };
    return typeof workspace === 'string' ? workspace : undefined;
  } catch {
    process.stderr.write(
      `${path} is not valid JSON: the workspace \`sandbox init\` made is forgotten (pass --workspace DIR).\n`,
    );
    return undefined;
  }
}

/**
 * Whether a run on `workspace` is the learner's own: found without --workspace (this folder,
 * $SANDBOX_WORKSPACE, the remembered one), or the workspace `sandbox init` made for this course
 * (remembered by the course, or naming this course in its .sandbox/course.json). A grader's
 * `--workspace ../someone` is not.
 */
export function isLearnersWorkspace(
  workspace: string,
  givenByFlag: boolean,
  root: string = courseRoot(),
): boolean {
  if (!givenByFlag) return true;
  const here = realOrUndefined(workspace);
  if (!here) return false;
  const remembered = rememberedWorkspace(root);
  if (remembered && realOrUndefined(remembered) === here) return true;
  const read = readWorkspaceJson(workspace, '.sandbox/course.json');
  const course = read.ok ? (read.value as { course?: unknown } | null)?.course : undefined;
  return typeof course === 'string' && realOrUndefined(course) === realOrUndefined(root);
}

function realOrUndefined(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}
