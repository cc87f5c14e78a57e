import type { AggregatedResult } from '@jest/test-result';
import { runCLI } from 'jest';
import { homedir } from 'node:os';
import path from 'node:path';

/** Compiled (dist, .js) or run from source (tsx, jest: .ts): the jest plugins sit next to this file either way. */
const EXT = path.extname(__filename);
const CHECKER_ROOT = path.resolve(__dirname, '../..');
const HARNESS_DIR = path.join(CHECKER_ROOT, 'src/harness');
const HARNESS_SOURCE = path.join(HARNESS_DIR, 'index.ts');
/** The one test file jest runs: it loads the run's check files (see checks.entry.ts). */
const CHECKS_ENTRY = path.join(HARNESS_DIR, 'checks.entry.ts');
/** jest starts every concurrent test at once; the run's scheduler decides which may proceed. */
const ALL_AT_ONCE = 10_000;

export function jestCacheDir(): string {
  return path.join(
    process.env['XDG_CACHE_HOME'] ?? path.join(homedir(), '.cache'),
    'backend-sandbox',
    'jest',
  );
}

/**
 * Runs the run's check files (the bridge's order) with jest, in this process, as one test file
 * that loads them all. Results flow through the bridge; jest's own report is silenced.
 */
export async function runCheckFiles(stepsDir: string): Promise<AggregatedResult> {
  const config = {
    rootDir: stepsDir,
    roots: [HARNESS_DIR],
    testMatch: ['**/checks.entry.ts'],
    moduleFileExtensions: ['ts', 'js', 'json'],
    transform: {
      '^.+\\.ts$': [
        require.resolve('@swc/jest'),
        {
          jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
          module: { type: 'commonjs' },
        },
      ],
    },
    transformIgnorePatterns: ['/node_modules/(?!@backend-sandbox/)'],
    moduleNameMapper: { '^@sandbox/harness$': HARNESS_SOURCE },
    testEnvironment: path.join(
      CHECKER_ROOT,
      path.basename(path.dirname(__dirname)),
      `harness/environment${EXT}`,
    ),
    cacheDirectory: jestCacheDir(),
    collectCoverage: false,
    injectGlobals: true,
  };
  const { results } = await runCLI(
    {
      _: [CHECKS_ENTRY],
      $0: 'sandbox',
      config: JSON.stringify(config),
      runInBand: true,
      maxConcurrency: ALL_AT_ONCE,
      runTestsByPath: true,
      silent: true,
      watchman: false,
      reporters: [],
      cache: true,
      ci: false,
    },
    [stepsDir],
  );
  return results;
}
