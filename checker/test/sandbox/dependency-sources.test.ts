import { mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assertRegistryOnly, fromRegistry, scanLock } from '../../src/sandbox/dependency-sources';
import type { Workspace } from '../../src/workspace/workspace';

describe('fromRegistry: which package.json specs the checker lets npm fetch', () => {
  it.each([
    '1.2.3',
    '^5.0.0',
    '>=1 <2',
    'latest',
    '*',
    '',
    'npm:pg@^8',
    'npm:@types/node@20',
    'npm:left-pad',
  ])('accepts the registry spec %j', (spec) => expect(fromRegistry(spec)).toBe(true));
  it.each([
    'http://169.254.169.254/x.tgz',
    'https://example.com/x.tgz',
    'git+ssh://git@github.com/a/b.git',
    'github:a/b',
    'a/b',
    'file:../secret',
    'link:/etc',
    'npm:x@http://10.0.0.1/x.tgz',
    'npm:@scope/x@file:../y',
    'npm:http://10.0.0.1/x.tgz',
  ])('refuses %j', (spec) => expect(fromRegistry(spec)).toBe(false));
  it('refuses what is not a string', () => expect(fromRegistry({ version: '1' })).toBe(false));
});

const REGISTRY = 'https://registry.npmjs.org';

describe('scanLock: the one reading of a lock, for the install fence and the dependency cache', () => {
  const v3 = (packages: Record<string, unknown>): unknown => ({
    lockfileVersion: 3,
    packages: { '': { name: 'ws' }, ...packages },
  });

  it('a lock of registry packages only: fetched, and cached', () => {
    const lock = v3({
      'node_modules/pg': { version: '8.0.0', resolved: `${REGISTRY}/pg/-/pg-8.0.0.tgz` },
    });
    expect(scanLock(lock)).toEqual({ elsewhere: false, links: false, v1: false });
  });

  it.each([
    ['another https host', 'https://example.com/pg.tgz'],
    ['git', 'git+ssh://git@github.com/a/b.git#abc'],
    ['a file', 'file:../secret'],
    ['the metadata service', 'http://169.254.169.254/x.tgz'],
  ])('a package resolved from %s: refused', (_what, resolved) => {
    expect(scanLock(v3({ 'node_modules/x': { resolved } })).elsewhere).toBe(true);
  });

  it('a link to a folder of the workspace is allowed but never cached; one out of it is refused', () => {
    expect(scanLock(v3({ 'node_modules/lib': { resolved: 'packages/lib', link: true } }))).toEqual({
      elsewhere: false,
      links: true,
      v1: false,
    });
    for (const resolved of ['../outside', '/etc', 'file:/etc'])
      expect(scanLock(v3({ 'node_modules/lib': { resolved, link: true } })).elsewhere).toBe(true);
  });

  it('a lockfileVersion 1 lock is read from its dependency tree, nested ones included', () => {
    const nested = {
      lockfileVersion: 1,
      dependencies: {
        a: {
          version: '1.0.0',
          resolved: `${REGISTRY}/a/-/a-1.0.0.tgz`,
          dependencies: { b: { version: 'github:x/y#abc' } },
        },
      },
    };
    expect(scanLock(nested)).toEqual({ elsewhere: true, links: false, v1: true });
    const clean = { lockfileVersion: 1, dependencies: { a: { version: '1.0.0' } } };
    expect(scanLock(clean)).toEqual({ elsewhere: false, links: false, v1: true });
  });

  it('what is not a lock entry counts as from elsewhere', () => {
    expect(scanLock(v3({ 'node_modules/x': 'https://example.com/x.tgz' })).elsewhere).toBe(true);
    expect(scanLock({ packages: 'x' }).elsewhere).toBe(true);
    expect(scanLock(null).elsewhere).toBe(true);
  });
});

describe('assertRegistryOnly', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ws-lock-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const ws = (): Workspace => ({
    dir,
    pkg: { dependencies: { pg: '^8' } },
    startScript: 'node s.js',
    hasBuild: false,
    hasLockFile: true,
  });

  it('refuses a lock it cannot read rather than let npm read it (damaged, or a link)', () => {
    writeFileSync(path.join(dir, 'package-lock.json'), '{"packages": {');
    expect(() => assertRegistryOnly(ws())).toThrow(
      expect.objectContaining({
        code: 'INSTALL_REFUSED',
        message: expect.stringContaining('package-lock.json is not valid JSON'),
      }),
    );
    rmSync(path.join(dir, 'package-lock.json'));
    symlinkSync('/etc/passwd', path.join(dir, 'npm-shrinkwrap.json'));
    expect(() => assertRegistryOnly(ws())).toThrow(
      expect.objectContaining({ code: 'INSTALL_REFUSED' }),
    );
  });

  it('reads a lock larger than the 1 MB the checker allows its own files', () => {
    const packages: Record<string, unknown> = { '': {} };
    for (let i = 0; i < 12_000; i++)
      packages[`node_modules/p${i}`] = {
        version: '1.0.0',
        resolved: `${REGISTRY}/p${i}/-/p${i}-1.0.0.tgz`,
      };
    packages['node_modules/zzz'] = { resolved: 'git+ssh://git@example.com/z.git' };
    writeFileSync(
      path.join(dir, 'package-lock.json'),
      JSON.stringify({ lockfileVersion: 3, packages }),
    );
    expect(statSync(path.join(dir, 'package-lock.json')).size).toBeGreaterThan(1024 * 1024);
    expect(() => assertRegistryOnly(ws())).toThrow(
      expect.objectContaining({
        message: expect.stringContaining('resolves a package outside the npm registry'),
      }),
    );
  });
});
