import { readFileSync } from 'node:fs';

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
}

/** Looks a user up in /etc/passwd (no native module needed). */
export function lookupUser(name: string): OsUser | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [user, , uid, gid] = line.split(':');
      if (user === name && uid !== undefined && gid !== undefined)
        return { name, uid: Number(uid), gid: Number(gid) };
    }
  } catch {
    return undefined;
  }
  return undefined;
}

export const isRoot = (): boolean => process.getuid?.() === 0;
