import {
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
    expect(() => copyWorkspace(src, dest, limits)).toThrow(
      expect.objectContaining({
        code: 'WORKSPACE_TOO_BIG',
        message: expect.stringContaining('files and folders'),
      }),
    );
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
