import type { AggregatedResult } from '@jest/test-result';
import { runCLI } from 'jest';
import { homedir } from 'node:os';
import path from 'node:path';

/** Compiled (dist, .js) or run from source (tsx, jest: .ts): the jest plugins sit next to this file either way. */
const EXT = path.extname(__filename);
const CHECKER_ROOT = path.resolve(__dirname, '../..');
const HARNESS_SOURCE = path.join(CHECKER_ROOT, 'src/harness/index.ts');

export function jestCacheDir(): string {
  return path.join(
    process.env['XDG_CACHE_HOME'] ?? path.join(homedir(), '.cache'),
    'backend-sandbox',
    'jest',
  );
}

/**
 * Runs the given check files with jest, in one process (in-band), in the order the sequencer
 * reads from the run's bridge. Results flow through the bridge; jest's own report is silenced.
 */
export async function runCheckFiles(
  stepsDir: string,
  files: readonly string[],
): Promise<AggregatedResult> {
  const config = {
    rootDir: stepsDir,
    roots: [stepsDir],
    testMatch: ['**/*.check.ts'],
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
      _: [...files],
      $0: 'sandbox',
      config: JSON.stringify(config),
      runInBand: true,
      runTestsByPath: true,
      silent: true,
      watchman: false,
      reporters: [],
      testSequencer: path.join(__dirname, `sequencer${EXT}`),
      cache: true,
      ci: false,
    },
    [stepsDir],
  );
  return results;
}
