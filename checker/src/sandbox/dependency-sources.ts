import { SetupError } from '../app/setup-error';
import { readWorkspaceJson } from '../workspace/files';
import type { Workspace } from '../workspace/workspace';

/** Lock-file URLs npm may fetch: the public registry's (npm rewrites them to a configured one). */
function registries(): string[] {
  const configured = process.env['npm_config_registry'];
  return ['https://registry.npmjs.org/', ...(configured ? [configured.replace(/\/?$/, '/')] : [])];
}

/** A package.json spec the registry resolves: a version, a range, a tag, or `npm:name@range`. */
export function fromRegistry(spec: unknown): boolean {
  if (typeof spec !== 'string') return false;
  const alias = /^npm:(?:@[^/@\s]+\/)?[^/@:\s]+(?:@(.*))?$/.exec(spec);
  if (spec.startsWith('npm:') && !alias) return false;
  const range = alias ? (alias[1] ?? '') : spec;
  return !/[:/\\]/.test(range); // a URL, a git repository, a path or user/repo shorthand has one
}

interface LockFile {
  packages?: Record<string, { resolved?: unknown; link?: unknown }>;
}

/**
 * Before the checker's npm fetches a contained run's dependencies (as root, with the machine's
 * network): every dependency must come from the registry. A tarball or git URL, or a lock entry
 * resolved elsewhere, could make npm request any address this machine reaches (169.254.169.254,
 * the office's hosts) on the workspace's behalf. Nothing of the files is quoted in the message.
 */
export function assertRegistryOnly(ws: Workspace): void {
  const pkg = ws.pkg as Record<string, unknown>;
  for (const field of ['dependencies', 'devDependencies', 'optionalDependencies']) {
    const deps = pkg[field];
    if (deps && typeof deps === 'object' && !Object.values(deps).every(fromRegistry))
      throw refused(`package.json names a dependency in "${field}" that is not a registry version`);
  }
  for (const file of ['package-lock.json', 'npm-shrinkwrap.json']) {
    const read = readWorkspaceJson(ws.dir, file);
    if (!read.ok) continue; // none, or damaged: npm ci reports it, fetching nothing
    const allowed = registries();
    for (const entry of Object.values((read.value as LockFile).packages ?? {})) {
      const resolved = entry?.resolved;
      if (resolved === undefined) continue;
      const local =
        entry.link === true && typeof resolved === 'string' && !/^(\/|\.\.|\w+:)/.test(resolved);
      if (local || (typeof resolved === 'string' && allowed.some((r) => resolved.startsWith(r))))
        continue;
      throw refused(`${file} resolves a package outside the npm registry`);
    }
  }
}

const refused = (what: string): SetupError =>
  new SetupError(
    'submission',
    'INSTALL_REFUSED',
    `${what}. A graded workspace installs packages from the npm registry only (no URLs, git repositories or paths): see docs/grader.md.`,
  );
