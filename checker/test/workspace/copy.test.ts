import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { COPY_LIMITS, copyWorkspace } from '../../src/workspace/copy';
import { isGenerated } from '../../src/workspace/generated';
import { workspaceHash } from '../../src/workspace/hash';

describe('workspace copy and hash', () => {
  let src: string;
  let dest: string;
  beforeEach(() => {
    src = mkdtempSync(path.join(os.tmpdir(), 'ws-src-'));
    dest = mkdtempSync(path.join(os.tmpdir(), 'ws-dest-'));
    for (const d of ['src/build', 'dist', 'node_modules/x', '.git', 'src/node_modules'])
      mkdirSync(path.join(src, d), { recursive: true });
    writeFileSync(path.join(src, 'package.json'), '{"scripts":{"start":"node s.js"}}');
    writeFileSync(path.join(src, 'src/build/keep.ts'), 'source');
    writeFileSync(path.join(src, 'dist/out.js'), 'built');
    writeFileSync(path.join(src, 'node_modules/x/i.js'), 'dep');
    writeFileSync(path.join(src, '.npmrc'), 'registry=http://evil.test/');
    writeFileSync(path.join(src, 'setuid.sh'), '#!/bin/sh', { mode: 0o4755 });
    symlinkSync('/etc/shadow', path.join(src, 'shadow'));
    symlinkSync('../package.json', path.join(src, 'src/pkg'));
  });
  afterEach(() => {
    rmSync(src, { recursive: true, force: true });
    rmSync(dest, { recursive: true, force: true });
  });

  it('copies sources only: no generated folders, no .npmrc, links as links (verbatim), no setuid bit', () => {
    copyWorkspace(src, dest);
    expect(existsSync(path.join(dest, 'src/build/keep.ts'))).toBe(true);
    for (const gone of ['dist', 'node_modules', '.git', 'src/node_modules', '.npmrc'])
      expect([gone, existsSync(path.join(dest, gone))]).toEqual([gone, false]);
    expect(lstatSync(path.join(dest, 'shadow')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(path.join(dest, 'shadow'))).toBe('/etc/shadow');
    expect(readlinkSync(path.join(dest, 'src/pkg'))).toBe('../package.json');
    expect(statSync(path.join(dest, 'setuid.sh')).mode & 0o7777).toBe(0o755);
  });

  it('refuses a workspace of more entries than a course project has, empty folders counted too (WORKSPACE_TOO_BIG)', () => {
    // No file at all: only folders, the way to make a copy slow and eat inodes past a file count.
    const limits = { ...COPY_LIMITS, files: 100 };
    mkdirSync(path.join(src, 'empty'));
    for (let i = 0; i <= limits.files; i++) mkdirSync(path.join(src, 'empty', String(i)));
    expect(() => copyWorkspace(src, dest, { limits })).toThrow(
      expect.objectContaining({
        code: 'WORKSPACE_TOO_BIG',
        message: expect.stringContaining('files and folders'),
      }),
    );
  });

  it('refuses a workspace over the byte cap, counting what it reads (WORKSPACE_TOO_BIG)', () => {
    writeFileSync(path.join(src, 'big.bin'), Buffer.alloc(64 * 1024));
    expect(() =>
      copyWorkspace(src, dest, { limits: { ...COPY_LIMITS, bytes: 32 * 1024 } }),
    ).toThrow(
      expect.objectContaining({
        code: 'WORKSPACE_TOO_BIG',
        message: expect.stringContaining('MB'),
      }),
    );
  });

  it('for an image: keeps only relative links that stay inside, normalises modes, leaves fifos out and names what it left', () => {
    symlinkSync('../../etc/passwd', path.join(src, 'src/up'));
    execFileSync('mkfifo', [path.join(src, 'pipe')]);
    const copied = copyWorkspace(src, dest, { links: 'inside', modes: 'normalise' });
    expect(readlinkSync(path.join(dest, 'src/pkg'))).toBe('../package.json');
    for (const gone of ['shadow', 'src/up', 'pipe'])
      expect([gone, lstatSync(path.join(dest, gone), { throwIfNoEntry: false })]).toEqual([
        gone,
        undefined,
      ]);
    expect(copied.refused.sort()).toEqual([
      'pipe (not a file or folder)',
      'shadow (a link out of the workspace)',
      path.join('src', 'up') + ' (a link out of the workspace)',
    ]);
    expect(statSync(path.join(dest, 'setuid.sh')).mode & 0o7777).toBe(0o755);
    expect(statSync(path.join(dest, 'package.json')).mode & 0o7777).toBe(0o644);
  });

  it('keeps modes whatever the umask, and hashes the same workspace the same way into any folder', () => {
    writeFileSync(path.join(src, 'shared.txt'), 'x');
    chmodSync(path.join(src, 'shared.txt'), 0o666);
    const hashInto = (to: string): string => {
      const h = createHash('sha256');
      copyWorkspace(src, to, { hash: h });
      return h.digest('hex');
    };
    const old = process.umask(0o077);
    let first: string;
    try {
      first = hashInto(dest);
    } finally {
      process.umask(old);
    }
    expect(statSync(path.join(dest, 'shared.txt')).mode & 0o777).toBe(0o666);
    const again = mkdtempSync(path.join(os.tmpdir(), 'ws-dest-'));
    try {
      expect(hashInto(path.join(again, 'made'))).toBe(first);
    } finally {
      rmSync(again, { recursive: true, force: true });
    }
  });

  it('dist/ and build/ are generated only at the top; the source hash ignores them, the build hash does not', () => {
    expect([
      isGenerated('dist/a.js'),
      isGenerated('src/build/a.ts'),
      isGenerated('a/.git'),
    ]).toEqual([true, false, true]);
    const source = workspaceHash(src);
    const built = workspaceHash(src, { withBuildOutput: true });
    writeFileSync(path.join(src, 'dist/out.js'), 'rebuilt');
    expect(workspaceHash(src)).toBe(source);
    expect(workspaceHash(src, { withBuildOutput: true })).not.toBe(built);
  });
});
