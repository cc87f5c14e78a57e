import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
  cpSync,
} from 'node:fs';
import path from 'node:path';

/**
 * A workspace inside a monorepo (the course's reference-app) leans on its parent: a tsconfig that
 * extends ../tsconfig.base.json, tools such as `tsc` installed at the root. The image is built from
 * the workspace alone, so those are made explicit in the build context. A standalone workspace (a
 * learner's) needs nothing of this and is copied as it is.
 */
export interface ParentNeeds {
  /** tsconfig files of the workspace that extend a file outside it. */
  extends: { file: string; target: string }[];
  /** devDependencies of the monorepo root that the workspace's scripts or tsconfig types use. */
  devDependencies: Record<string, string>;
}

const INLINED_DIR = '.sandbox-extends';

type Json = Record<string, unknown>;

function readJson(file: string): Json | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Json;
  } catch {
    return undefined; // missing, or JSON with comments: left as it is
  }
}

const strings = (v: unknown): Record<string, string> =>
  v && typeof v === 'object' ? (v as Record<string, string>) : {};

function tsconfigs(workspace: string): string[] {
  return readdirSync(workspace).filter((f) => /^tsconfig.*\.json$/.test(f));
}

function outsideExtends(workspace: string): ParentNeeds['extends'] {
  const found: ParentNeeds['extends'] = [];
  for (const file of tsconfigs(workspace)) {
    const ext = readJson(path.join(workspace, file))?.extends;
    if (typeof ext !== 'string' || !ext.startsWith('.')) continue;
    const target = path.resolve(workspace, ext);
    if (
      path.relative(workspace, target).startsWith('..') &&
      statSync(target, { throwIfNoEntry: false })?.isFile()
    )
      found.push({ file, target });
  }
  return found;
}

/** The nearest parent folder whose package.json declares npm workspaces. */
function monorepoRoot(workspace: string): string | undefined {
  for (let dir = path.dirname(workspace); path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    if (readJson(path.join(dir, 'package.json'))?.workspaces) return dir;
  }
  return undefined;
}

function binNames(root: string, pkg: string): string[] {
  const manifest = readJson(path.join(root, 'node_modules', pkg, 'package.json'));
  const bin = manifest?.bin;
  if (typeof bin === 'string') return [pkg.split('/').pop() ?? pkg];
  return Object.keys(strings(bin));
}

function rootDevDependencies(
  workspace: string,
  extended: ParentNeeds['extends'],
): Record<string, string> {
  const root = monorepoRoot(workspace);
  if (!root) return {};
  const own = readJson(path.join(workspace, 'package.json')) ?? {};
  const declared = new Set([
    ...Object.keys(strings(own.dependencies)),
    ...Object.keys(strings(own.devDependencies)),
  ]);
  const scripts = Object.values(strings(own.scripts)).join('\n');
  const types = new Set(
    [
      ...tsconfigs(workspace).map((f) => path.join(workspace, f)),
      ...extended.map((e) => e.target),
    ].flatMap((f) => {
      const t = (readJson(f)?.compilerOptions as Json | undefined)?.types;
      return Array.isArray(t) ? t.filter((x): x is string => typeof x === 'string') : [];
    }),
  );
  const needed: Record<string, string> = {};
  for (const [name, range] of Object.entries(
    strings(readJson(path.join(root, 'package.json'))?.devDependencies),
  )) {
    if (declared.has(name)) continue;
    const usedBin = binNames(root, name).some((bin) =>
      new RegExp(`(^|[\\s;&|(])${bin.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\s|$)`, 'm').test(
        scripts,
      ),
    );
    const usedTypes = name.startsWith('@types/') && types.has(name.slice('@types/'.length));
    if (usedBin || usedTypes) needed[name] = range;
  }
  return needed;
}

export function parentNeeds(workspace: string): ParentNeeds {
  const extended = outsideExtends(workspace);
  return { extends: extended, devDependencies: rootDevDependencies(workspace, extended) };
}

/** Text that changes when what is taken from the parent changes (part of the image tag). */
export function parentNeedsFingerprint(needs: ParentNeeds): string {
  return JSON.stringify([
    needs.extends.map((e) => [e.file, readFileSync(e.target, 'utf8')]),
    needs.devDependencies,
  ]);
}

/** Writes the parent's pieces into the build context (a copy of the workspace). */
export function applyParentNeeds(context: string, needs: ParentNeeds): void {
  for (const { file, target } of needs.extends) {
    const copy = path.join(INLINED_DIR, path.basename(target));
    mkdirSync(path.join(context, INLINED_DIR), { recursive: true });
    cpSync(target, path.join(context, copy));
    const config = readJson(path.join(context, file)) ?? {};
    writeFileSync(
      path.join(context, file),
      `${JSON.stringify({ ...config, extends: `./${copy}` }, null, 2)}\n`,
    );
  }
  const pkgFile = path.join(context, 'package.json');
  if (Object.keys(needs.devDependencies).length && existsSync(pkgFile)) {
    const pkg = readJson(pkgFile) ?? {};
    pkg.devDependencies = { ...strings(pkg.devDependencies), ...needs.devDependencies };
    writeFileSync(pkgFile, `${JSON.stringify(pkg, null, 2)}\n`);
  }
}
