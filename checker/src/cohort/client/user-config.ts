import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** What `sandbox join` keeps: the learner's personal token, in the user's config, never in a workspace. */
export interface Membership {
  server: string;
  token: string;
  learner: { id: string; name: string };
  cohort: { id: string; name: string };
  joinedAt: string;
}

/** ~/.config/backend-sandbox (or $XDG_CONFIG_HOME/backend-sandbox, or $SANDBOX_CONFIG_DIR). */
export function configDir(): string {
  if (process.env['SANDBOX_CONFIG_DIR']) return path.resolve(process.env['SANDBOX_CONFIG_DIR']);
  const base = process.env['XDG_CONFIG_HOME'] ?? path.join(os.homedir(), '.config');
  return path.join(base, 'backend-sandbox');
}

export const membershipPath = (): string => path.join(configDir(), 'cohort.json');

export function readMembership(): Membership | undefined {
  const file = membershipPath();
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as Membership;
}

export function writeMembership(membership: Membership): string {
  const file = membershipPath();
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // Readable by the user only: the token is a password.
  writeFileSync(`${file}.tmp`, `${JSON.stringify(membership, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
  return file;
}
