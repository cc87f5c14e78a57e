import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** The first executable named `name` on PATH, or undefined. */
export function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

export interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

/** initdb + postgres from PATH, else from the newest /usr/lib/postgresql/<version>/bin. */
export function findPostgresBinaries(): PostgresBinaries | undefined {
  const initdb = onPath('initdb');
  const postgres = onPath('postgres');
  if (initdb && postgres) return { initdb, postgres };
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = path.join(root, v, 'bin');
    const found = { initdb: path.join(bin, 'initdb'), postgres: path.join(bin, 'postgres') };
    if (existsSync(found.initdb) && existsSync(found.postgres)) return found;
  }
  return undefined;
}

export function findRedisServer(): string | undefined {
  return onPath('redis-server');
}
