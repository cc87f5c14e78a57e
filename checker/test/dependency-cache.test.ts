import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { restoreDependencies, storeDependencies } from '../src/sandbox/dependency-cache';

// The contained runs' dependency cache keeps the trees used most recently, so a worker grading
// a cohort's ten states in turn restores each one instead of installing it again.

let cache: string;
let work: string;
const before = process.env.SANDBOX_CACHE_DIR;

beforeEach(() => {
  cache = mkdtempSync(path.join(os.tmpdir(), 'dep-cache-'));
  work = mkdtempSync(path.join(os.tmpdir(), 'dep-work-'));
  process.env.SANDBOX_CACHE_DIR = cache;
});
afterEach(() => {
  if (before === undefined) delete process.env.SANDBOX_CACHE_DIR;
  else process.env.SANDBOX_CACHE_DIR = before;
  rmSync(cache, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

/** A workspace folder whose node_modules holds one file naming `key`. */
function installed(key: string): string {
  const dir = path.join(work, key);
  mkdirSync(path.join(dir, 'node_modules', 'pkg'), { recursive: true });
  writeFileSync(path.join(dir, 'node_modules', 'pkg', 'index.js'), `module.exports = '${key}';\n`);
  return dir;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function restoredInto(key: string): Promise<string | undefined> {
  const dir = mkdtempSync(path.join(work, 'restore-'));
  if (!(await restoreDependencies(key, dir))) return undefined;
  return readFileSync(path.join(dir, 'node_modules', 'pkg', 'index.js'), 'utf8');
}

it('a stored tree is restored with the same files', async () => {
  await storeDependencies('one', installed('one'));
  expect(await restoredInto('one')).toBe("module.exports = 'one';\n");
  expect(await restoredInto('other')).toBeUndefined();
});

it('keeps the sixteen trees used most recently: one restored stays, the least recently used goes', async () => {
  const keys = Array.from({ length: 16 }, (_, i) => `key-${i}`);
  for (const key of keys) {
    await storeDependencies(key, installed(key));
    await sleep(15); // distinct modification times
  }
  // The oldest stored, used again now: more recent than every other.
  expect(await restoredInto('key-0')).toBe("module.exports = 'key-0';\n");
  await sleep(15);
  await storeDependencies('key-16', installed('key-16'));

  const kept = (key: string): boolean =>
    existsSync(path.join(cache, 'contained-dependencies', key));
  expect({ 'key-0': kept('key-0'), 'key-1': kept('key-1'), 'key-16': kept('key-16') }).toEqual({
    'key-0': true,
    'key-1': false,
    'key-16': true,
  });
  expect(keys.slice(2).every(kept)).toBe(true);
});
