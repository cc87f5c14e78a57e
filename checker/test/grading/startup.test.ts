import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO } from './support/run-child';

const TSX = path.join(REPO, 'node_modules/.bin/tsx');
/** What grading needs and the course commands do not: together about a second of CPU to load. */
const HEAVY = [
  '/node_modules/jest/',
  '/node_modules/testcontainers/',
  '/node_modules/pg/',
  '/node_modules/ioredis/',
];

/** The node_modules packages and checker sources `sandbox ARGS` loaded. */
function modulesLoadedBy(args: string[]): string[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sandbox-startup-'));
  try {
    const out = path.join(dir, 'modules.json');
    const child = spawnSync(TSX, [path.join(__dirname, 'support/modules-loaded-by.ts'), ...args], {
      encoding: 'utf8',
      env: {
        ...process.env,
        MODULES_OUT: out,
        NO_COLOR: '1',
        SANDBOX_WORKSPACE: '',
        SANDBOX_STATE_DIR: dir,
      },
      timeout: 60_000,
    });
    if (child.error) throw child.error;
    return JSON.parse(readFileSync(out, 'utf8')) as string[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('commands that grade nothing start at once', () => {
  it.each([
    [['--help']],
    [['next', '--workspace', path.join(REPO, 'reference-app')]],
    [['status', '--workspace', path.join(REPO, 'reference-app')]],
    [['check', '--help']],
  ])(
    'sandbox %j loads neither jest, the container engine client nor the database clients',
    (args) => {
      const loaded = modulesLoadedBy(args);
      expect(loaded.some((m) => m.endsWith('/checker/src/cli.ts'))).toBe(true);
      expect(HEAVY.filter((heavy) => loaded.some((m) => m.includes(heavy)))).toEqual([]);
    },
  );
});
