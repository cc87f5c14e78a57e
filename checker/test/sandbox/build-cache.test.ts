import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildIfNeeded } from '../../src/sandbox/install-and-build';
import { readWorkspace } from '../../src/workspace/workspace';

// A workspace whose build copies src/ into dist/ and logs each build outside the workspace.
function makeWorkspace(scripts: Record<string, string> = {}): {
  dir: string;
  builds: () => number;
  log: () => string;
  remove: () => void;
} {
  const root = mkdtempSync(path.join(os.tmpdir(), 'sandbox-build-cache-'));
  const dir = path.join(root, 'ws');
  const log = path.join(root, 'builds.log');
  mkdirSync(path.join(dir, 'src'), { recursive: true });
  writeFileSync(path.join(dir, 'src', 'server.js'), 'console.log("v1")\n');
  writeFileSync(
    path.join(dir, 'build.js'),
    `const fs = require('fs');
fs.mkdirSync('dist', { recursive: true });
fs.copyFileSync('src/server.js', 'dist/server.js');
fs.appendFileSync(${JSON.stringify(log)}, process.env.npm_package_name === 'ws' ? 'built by npm\\n' : 'built\\n');
`,
  );
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({
      name: 'ws',
      scripts: { build: 'node build.js', start: 'node dist/server.js', ...scripts },
    }),
  );
  return {
    dir,
    builds: () =>
      existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).length : 0,
    log: () => (existsSync(log) ? readFileSync(log, 'utf8') : ''),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

describe('buildIfNeeded', () => {
  const previousCache = process.env.SANDBOX_CACHE_DIR;
  let cache: string;
  beforeEach(() => {
    cache = mkdtempSync(path.join(os.tmpdir(), 'sandbox-cache-'));
    process.env.SANDBOX_CACHE_DIR = cache;
  });
  afterEach(() => {
    rmSync(cache, { recursive: true, force: true });
    if (previousCache === undefined) delete process.env.SANDBOX_CACHE_DIR;
    else process.env.SANDBOX_CACHE_DIR = previousCache;
  });

  it('skips a build when neither the sources nor the build output changed', async () => {
    const ws = makeWorkspace();
    try {
      await buildIfNeeded(readWorkspace(ws.dir));
      await buildIfNeeded(readWorkspace(ws.dir));
      expect(ws.builds()).toBe(1);
    } finally {
      ws.remove();
    }
  });

  it('builds again when a source file changed', async () => {
    const ws = makeWorkspace();
    try {
      await buildIfNeeded(readWorkspace(ws.dir));
      writeFileSync(path.join(ws.dir, 'src', 'server.js'), 'console.log("v2")\n');
      await buildIfNeeded(readWorkspace(ws.dir));
      expect([ws.builds(), readFileSync(path.join(ws.dir, 'dist', 'server.js'), 'utf8')]).toEqual([
        2,
        'console.log("v2")\n',
      ]);
    } finally {
      ws.remove();
    }
  });

  it('builds again when the build output was deleted, so a cached stamp never grades a missing dist', async () => {
    const ws = makeWorkspace();
    try {
      await buildIfNeeded(readWorkspace(ws.dir));
      rmSync(path.join(ws.dir, 'dist'), { recursive: true });
      await buildIfNeeded(readWorkspace(ws.dir));
      expect([ws.builds(), existsSync(path.join(ws.dir, 'dist', 'server.js'))]).toEqual([2, true]);
    } finally {
      ws.remove();
    }
  });

  it('runs a simple build script itself, as npm would (node_modules/.bin on PATH), without npm', async () => {
    const ws = makeWorkspace();
    try {
      await buildIfNeeded(readWorkspace(ws.dir));
      expect(ws.log()).toBe('built\n');
    } finally {
      ws.remove();
    }
  });

  it('leaves a build with a prebuild script to npm, which runs both', async () => {
    const ws = makeWorkspace({ prebuild: "node -e \"require('fs').writeFileSync('pre', '')\"" });
    try {
      await buildIfNeeded(readWorkspace(ws.dir));
      expect([ws.log(), existsSync(path.join(ws.dir, 'pre'))]).toEqual(['built by npm\n', true]);
    } finally {
      ws.remove();
    }
  });
});
