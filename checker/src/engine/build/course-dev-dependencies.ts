import fs from 'node:fs';
import path from 'node:path';

type Json = Record<string, unknown>;

function readJson(file: string): Json | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Json;
  } catch {
    return undefined;
  }
}

const strings = (v: unknown): Record<string, string> =>
  v && typeof v === 'object' ? (v as Record<string, string>) : {};

function binNames(root: string, pkg: string): string[] {
  const bin = readJson(path.join(root, 'node_modules', pkg, 'package.json'))?.bin;
  if (typeof bin === 'string') return [pkg.split('/').pop() ?? pkg];
  return Object.keys(strings(bin));
}

/**
 * The course root's devDependencies that a course workspace (copied to `appDir`) uses without
 * declaring them: a tool its scripts call (`tsc`) or types its tsconfig names (`@types/node`).
 * Read from the course's own package.json only.
 */
export function courseDevDependencies(root: string, appDir: string): Record<string, string> {
  const own = readJson(path.join(appDir, 'package.json')) ?? {};
  const declared = new Set([
    ...Object.keys(strings(own.dependencies)),
    ...Object.keys(strings(own.devDependencies)),
  ]);
  const scripts = Object.values(strings(own.scripts)).join('\n');
  const configs = fs
    .readdirSync(appDir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /(^|\/)tsconfig.*\.json$/.test(f) && !f.includes('node_modules'));
  const types = new Set(
    configs.flatMap((f) => {
      const t = (readJson(path.join(appDir, f))?.compilerOptions as Json | undefined)?.types;
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
