import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** Live (non-zombie) pids among `pids`, from /proc. */
export function stillAlive(pids: number[]): number[] {
  return pids.filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
    } catch {
      return false;
    }
  });
}

/** Pids whose command line mentions `needle`. */
export function processesMentioning(needle: string): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        return readFileSync(`/proc/${n}/cmdline`, 'utf8').includes(needle);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Databases or roles on the machine's Postgres whose name starts with `prefix`. */
export function postgresObjects(adminUrl: string, prefix: string): string[] {
  const sql = `SELECT datname FROM pg_database WHERE datname LIKE '${prefix}%' UNION ALL SELECT rolname FROM pg_roles WHERE rolname LIKE '${prefix}%'`;
  return execFileSync('psql', [adminUrl, '-Atc', sql], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
}

export const pathExists = existsSync;
