/**
 * The one list of folders a workspace generates (installs, builds, tools' state): never copied
 * into a run, never hashed as source, never taken as the learner's work.
 */
export const DEPENDENCY_AND_STATE_FOLDERS: ReadonlySet<string> = new Set([
  'node_modules',
  '.git',
  '.sandbox',
  'coverage',
  '.cache',
]);

/** Build output at the workspace's top level (a `src/build/` folder is source). */
export const BUILD_OUTPUT_FOLDERS: ReadonlySet<string> = new Set(['dist', 'build']);

/** Files of the workspace that configure the checker's own tools: never copied into a run (npm reads .npmrc as the checker). */
export const TOOL_CONFIG_FILES: ReadonlySet<string> = new Set(['.npmrc', '.yarnrc', '.yarnrc.yml']);

/** Generated at `relative` (a path inside the workspace, '/'-separated or not)? */
export function isGenerated(relative: string): boolean {
  const parts = relative.split(/[\\/]/).filter(Boolean);
  if (parts.some((p) => DEPENDENCY_AND_STATE_FOLDERS.has(p))) return true;
  return parts.length > 0 && BUILD_OUTPUT_FOLDERS.has(parts[0]!);
}
