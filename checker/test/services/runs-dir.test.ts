import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ownFolder, runsDir } from '../../src/services/local-postgres';
import { lookupUser } from '../../src/services/os-user';

// Private servers' run dirs sit in the temp dir, which other users share (/tmp).
describe('the folder of private servers’ run dirs', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'sandbox-runs-dir-'));
    chmodSync(tmp, 0o1777); // as /tmp is
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  it('is made by the checker, its own and writable by no one else', () => {
    const st = statSync(runsDir());
    expect([st.uid, st.mode & 0o022]).toEqual([process.getuid!(), 0]);
    const dir = path.join(tmp, 'runs');
    expect(ownFolder(dir)).toBe(dir);
    expect(ownFolder(dir)).toBe(dir); // found as made
  });

  it('made first by another user: refused', () => {
    const nobody = lookupUser('nobody')!; // the tests run as root, as a grading host does
    const dir = path.join(tmp, 'runs');
    mkdirSync(dir, { mode: 0o755 });
    chownSync(dir, nobody.uid, nobody.gid);
    expect(() => ownFolder(dir)).toThrow(/is not this user's own folder/);
  });

  it('a link planted in its place, or a folder anyone may write: refused', () => {
    const dir = path.join(tmp, 'runs');
    symlinkSync(mkdtempSync(path.join(tmp, 'elsewhere-')), dir);
    expect(() => ownFolder(dir)).toThrow(/is not this user's own folder/);
    rmSync(dir);
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    expect(() => ownFolder(dir)).toThrow(/is not this user's own folder/);
  });
});
