import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RunResult } from '../../src/results/types';
import { resultValidator } from './schema';
import { FIXTURES, REPO, runCli } from './support/run-child';

const STARTER = path.join(REPO, 'steps', 'starter');
const validate = resultValidator();

/** The tiny app in TypeScript; `extra` goes on line 3 (a type error, a syntax error). */
const server = (extra: string, salt: string): string =>
  `import http from 'node:http';
// ${salt}: unique sources, so no earlier test run's build or type check is reused
${extra}
const server = http.createServer((req, res) => {
  const ok = req.url === '/health';
  res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' });
  res.end(JSON.stringify(ok ? { status: 'ok' } : { error: { code: 'NOT_FOUND', message: 'no' } }));
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

/**
 * A workspace built like the starter (its build script and tsconfig.json), inside the repository
 * (.sandbox/) so esbuild, typescript and @types/node resolve from the root's node_modules.
 */
function tsWorkspace(extra: string): { dir: string; remove: () => void } {
  const dir = path.join(REPO, '.sandbox', `type-check-${randomBytes(4).toString('hex')}`);
  mkdirSync(path.join(dir, 'src'), { recursive: true });
  const starter = JSON.parse(readFileSync(path.join(STARTER, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const { build, start } = starter.scripts;
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'ts-app', private: true, scripts: { build, start } }),
  );
  copyFileSync(path.join(STARTER, 'tsconfig.json'), path.join(dir, 'tsconfig.json'));
  writeFileSync(path.join(dir, 'src', 'server.ts'), server(extra, path.basename(dir)));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

const check = (dir: string, ...args: string[]) =>
  runCli(['check', '--workspace', dir, '--step', '1', '--services', 'local', ...args], {
    env: { SANDBOX_STEPS_DIR: path.join(FIXTURES, 'steps') },
  });

describe('sandbox check on a TypeScript workspace built like the starter (esbuild)', () => {
  it('with a type error that still runs: graded on what it does, the error reported with file:line, and not type-checked again when unchanged', () => {
    const ws = tsWorkspace("const label: number = 'not a number';");
    try {
      const pretty = check(ws.dir);
      expect(pretty.code).toBe(0);
      expect(pretty.stdout).toMatch(/^PASS Step 1: Hello \(hello\) {2}3\/3$/m);
      expect(pretty.stdout).toContain(
        'Type check (tsc --noEmit, not graded): 1 error; your app was graded on what it does.',
      );
      expect(pretty.stdout).toMatch(
        /^ {2}src\/server\.ts:3:7 TS2322 Type 'string' is not assignable to type 'number'\.$/m,
      );

      const json = check(ws.dir, '--format', 'json');
      const result = JSON.parse(json.stdout) as RunResult;
      expect([result.status, result.score, result.maxScore]).toEqual(['pass', 3, 3]);
      expect(result.typeCheck).toEqual({
        status: 'fail',
        errorCount: 1,
        errors: [
          {
            file: 'src/server.ts',
            line: 3,
            column: 7,
            code: 'TS2322',
            message: "Type 'string' is not assignable to type 'number'.",
          },
        ],
        durationMs: 0,
        cached: true, // the same sources as the run above
      });
      expect(validate(result)).toEqual([]);

      const skipped = JSON.parse(
        check(ws.dir, '--format', 'json', '--no-type-check').stdout,
      ) as RunResult;
      expect(skipped.status).toBe('pass');
      expect(skipped.typeCheck).toBeUndefined();
    } finally {
      ws.remove();
    }
  }, 240_000);

  it('without type errors: the type check passes', () => {
    const ws = tsWorkspace('const label: string = "fine";');
    try {
      const result = JSON.parse(check(ws.dir, '--format', 'json').stdout) as RunResult;
      expect(result.status).toBe('pass');
      expect(result.typeCheck).toMatchObject({ status: 'pass', errorCount: 0, errors: [] });
    } finally {
      ws.remove();
    }
  }, 120_000);

  it('with a syntax error esbuild refuses: the build fails, once, with esbuild’s file:line, and nothing is graded', () => {
    const ws = tsWorkspace('const = 1;');
    try {
      const r = check(ws.dir);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^Your app could not be set up: npm run build failed \(exit 1\)/m);
      expect(r.stdout).toContain('[ERROR] Expected identifier but found "="');
      expect(r.stdout).toContain('src/server.ts:3:6:');
      expect(r.stdout.match(/npm run build failed/g)).toHaveLength(1);
      const result = JSON.parse(check(ws.dir, '--format', 'json').stdout) as RunResult;
      expect(result.setupFailure?.message).toContain('npm run build failed (exit 1)');
      expect(result.steps[0]?.checks.every((c) => c.status === 'fail')).toBe(true);
    } finally {
      ws.remove();
    }
  }, 120_000);
});
