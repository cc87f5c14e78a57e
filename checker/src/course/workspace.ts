import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { looksLikeWorkspace } from '../workspace/workspace';
import { courseRoot } from './paths';

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
 * The workspace a command works on: --workspace, else $SANDBOX_WORKSPACE, else the current
 * folder when it is a workspace (not the course itself), else the one `sandbox init` made.
 */
export function resolveWorkspace(
  flag?: string,
  root: string = courseRoot(),
  cwd: string = process.cwd(),
): string {
  if (flag) return resolve(cwd, flag);
  const fromEnv = process.env['SANDBOX_WORKSPACE'];
  if (fromEnv) return resolve(cwd, fromEnv);
  if (resolve(cwd) !== root && looksLikeWorkspace(cwd)) return resolve(cwd);
  const path = rememberedPath(root);
  if (existsSync(path)) {
    const { workspace } = JSON.parse(readFileSync(path, 'utf8')) as { workspace?: string };
    if (workspace) return workspace;
  }
  return resolve(cwd);
}
