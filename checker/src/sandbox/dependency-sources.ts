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

/** Lock files npm reads, in its order of preference. Larger than LOCK_MAX_BYTES: not read, refused. */
export const LOCK_FILES = ['npm-shrinkwrap.json', 'package-lock.json'] as const;
export const LOCK_MAX_BYTES = 32 * 1024 * 1024;

/** What one reading of a lock file (its parsed JSON) found about where its packages come from. */
export interface LockScan {
  /** An entry resolved outside the registries npm may fetch from, or one that cannot be read. */
  elsewhere: boolean;
  /** A `link: true` entry: a folder of the workspace, whose contents the lock does not pin. */
  links: boolean;
  /** A lockfileVersion 1 lock (no `packages`), read from its `dependencies` tree. */
  v1: boolean;
}

interface LockEntry {
  resolved?: unknown;
  link?: unknown;
  version?: unknown;
  dependencies?: unknown;
}

/**
 * The one reading of a lock file, for the install fence (assertRegistryOnly) and the dependency
 * cache (dependency-cache.ts): every entry is resolved under a registry npm may fetch from, or
 * is a link to a relative folder that stays in the workspace; anything else is `elsewhere`.
 */
export function scanLock(lock: unknown): LockScan {
  const scan: LockScan = { elsewhere: false, links: false, v1: false };
  if (typeof lock !== 'object' || lock === null) return { ...scan, elsewhere: true };
  const allowed = registries();
  const check = (entry: unknown, v1: boolean): void => {
    if (typeof entry !== 'object' || entry === null) return void (scan.elsewhere = true);
    const { resolved, link, version } = entry as LockEntry;
    if (link === true) {
      scan.links = true;
      if (typeof resolved !== 'string' || /^(\/|\.\.|\w+:)/.test(resolved)) scan.elsewhere = true;
      return;
    }
    // A v1 lock names a git, file or URL dependency by its version.
    if (v1 && typeof version === 'string' && /[:/\\]/.test(version)) scan.elsewhere = true;
    if (resolved === undefined) return;
    if (!(typeof resolved === 'string' && allowed.some((r) => resolved.startsWith(r))))
      scan.elsewhere = true;
  };
  const packages = (lock as { packages?: unknown }).packages;
  if (packages !== undefined) {
    if (typeof packages !== 'object' || packages === null) return { ...scan, elsewhere: true };
    for (const [where, entry] of Object.entries(packages)) if (where !== '') check(entry, false);
    return scan;
  }
  scan.v1 = true;
  const walk = (deps: unknown): void => {
    if (deps === undefined) return;
    if (typeof deps !== 'object' || deps === null) return void (scan.elsewhere = true);
    for (const entry of Object.values(deps)) {
      check(entry, true);
      if (typeof entry === 'object' && entry !== null) walk((entry as LockEntry).dependencies);
    }
  };
  walk((lock as LockEntry).dependencies);
  return scan;
}

/**
 * Before the checker's npm fetches a contained run's dependencies (as root, with the machine's
 * network): every dependency must come from the registry. A tarball or git URL, or a lock entry
 * resolved elsewhere, could make npm request any address this machine reaches (169.254.169.254,
 * the office's hosts) on the workspace's behalf. A lock the checker cannot read (damaged, larger
 * than LOCK_MAX_BYTES, a link) is refused too. Nothing of the files is quoted in the message.
 */
export function assertRegistryOnly(ws: Workspace): void {
  const pkg = ws.pkg as Record<string, unknown>;
  for (const field of ['dependencies', 'devDependencies', 'optionalDependencies']) {
    const deps = pkg[field];
    if (deps && typeof deps === 'object' && !Object.values(deps).every(fromRegistry))
      throw refused(`package.json names a dependency in "${field}" that is not a registry version`);
  }
  for (const file of LOCK_FILES) {
    const read = readWorkspaceJson(ws.dir, file, { maxBytes: LOCK_MAX_BYTES });
    if (!read.ok && read.missing) continue;
    if (!read.ok)
      throw refused(`${read.problem}: the checker cannot tell where its packages come from`);
    if (scanLock(read.value).elsewhere)
      throw refused(`${file} resolves a package outside the npm registry`);
  }
}

const refused = (what: string): SetupError =>
  new SetupError(
    'submission',
    'INSTALL_REFUSED',
    `${what}. A graded workspace installs packages from the npm registry only (no URLs, git repositories or paths): see docs/grader.md.`,
  );
