import path from 'node:path';
import { formatGradescope } from '../../src/reporters/gradescope';
import { formatJunit } from '../../src/reporters/junit';
import { formatPretty } from '../../src/reporters/pretty';
import type { RunResult } from '../../src/results/types';
import { FIXTURES, gradeFixture } from './support/run-child';

describe('reporters on a real result', () => {
  let result: RunResult;
  beforeAll(() => {
    result = gradeFixture(path.join(FIXTURES, 'tiny-app'), ['2']);
  });

  it('pretty: a header per step, a mark and points per check, the failure laid out, the closing counts and what to do next', () => {
    const text = formatPretty(result, { color: false });
    expect(text).toContain('PASS Step 1: Hello (hello)  3/3');
    expect(text).toContain('  ✓ unknown routes answer 404  1/1');
    expect(text).toContain('  ✗ GET /teapot answers 418  0/3');
    expect(text).toMatch(/request sent: GET http:\/\/127\.0\.0\.1:\d+\/teapot/);
    expect(text).toContain('hint: Brew tea at GET /teapot.');
    expect(text).toContain('app logs (last lines):');
    expect(text).toContain('2 passed, 1 failed · score 3/6');
    expect(text).toContain('Next: fix "GET /teapot answers 418"');
    expect(text).not.toContain('\u001b[');
    expect(formatPretty(result, { color: true })).toContain('\u001b[');
  });

  it('junit: a testsuite per step, a testcase per check, the failure message escaped', () => {
    const xml = formatJunit(result);
    expect(xml.match(/<testsuite /g)).toHaveLength(2);
    expect(xml.match(/<testcase /g)).toHaveLength(3);
    expect(xml).toContain('<testsuites name="backend-sandbox" tests="3" failures="1" errors="0"');
    expect(xml).toContain('<failure message="GET /teapot answered 404 NOT_FOUND, expected 418">');
    expect(xml).toContain('name="GET /health answers 200 {&quot;status&quot;:&quot;ok&quot;}"');
  });

  it('gradescope: tests with score, max_score, output and status, and the total score', () => {
    const gs = JSON.parse(formatGradescope(result)) as {
      score: number;
      tests: { name: string; score: number; max_score: number; status: string; output: string }[];
    };
    expect(gs.score).toBe(3);
    expect(gs.tests.map((t) => [t.name, t.score, t.max_score, t.status])).toEqual([
      ['1. hello: GET /health answers 200 {"status":"ok"}', 2, 2, 'passed'],
      ['1. hello: unknown routes answer 404', 1, 1, 'passed'],
      ['2. broken: GET /teapot answers 418', 0, 3, 'failed'],
    ]);
    expect(gs.tests[2]?.output).toContain('Hint: Brew tea at GET /teapot.');
  });

  it('pretty: type errors under the steps, the first 5 with file:line:column, escaped, never in the score', () => {
    const errors = Array.from({ length: 10 }, (_, i) => ({
      file: i === 0 ? 'src/\u001b[2Jevil.ts' : `src/f${i}.ts`,
      line: i + 1,
      column: 3,
      code: 'TS2322',
      message: `Type 'string' is not assignable to type 'number'.\n  more about error ${i}`,
    }));
    const text = formatPretty(
      {
        ...result,
        typeCheck: { status: 'fail', errorCount: 12, errors, durationMs: 900, cached: false },
      },
      { color: false },
    );
    expect(text).toContain(
      'Type check (tsc --noEmit, not graded): 12 errors; your app was graded on what it does.',
    );
    expect(text).toContain(
      "  src/f1.ts:2:3 TS2322 Type 'string' is not assignable to type 'number'.",
    );
    expect(text).toContain('    more about error 1');
    expect(text).toContain('src/f4.ts:5:3');
    expect(text).not.toContain('src/f5.ts');
    expect(text).toContain('  7 more: run `npm run typecheck` in your workspace to see them all.');
    expect(text).not.toContain('\u001b[2J');
    expect(text).toContain('2 passed, 1 failed · score 3/6');
    const passed = formatPretty(
      {
        ...result,
        typeCheck: { status: 'pass', errorCount: 0, errors: [], durationMs: 0, cached: true },
      },
      { color: false },
    );
    expect(passed).toContain('Type check (tsc --noEmit, not graded): no errors.');
  });
});
