import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunResult } from '../../src/results/types';
import { resultValidator } from './schema';
import { FIXTURES, gradeFixture } from './support/run-child';

const TINY_APP = path.join(FIXTURES, 'tiny-app');
const validate = resultValidator();
const grades = (r: RunResult) =>
  r.steps.map((s) => [
    s.slug,
    s.status,
    s.score,
    s.checks.map((c) => [c.name, c.status, c.points]),
  ]);

describe('grade() on fixture steps', () => {
  let all: RunResult;
  beforeAll(() => {
    all = gradeFixture(TINY_APP);
  });

  it('grades every step in manifest order, checks in file order, with points all or nothing', () => {
    expect(grades(all)).toEqual([
      [
        'hello',
        'pass',
        3,
        [
          ['GET /health answers 200 {"status":"ok"}', 'pass', 2],
          ['unknown routes answer 404', 'pass', 1],
        ],
      ],
      ['broken', 'fail', 0, [['GET /teapot answers 418', 'fail', 0]]],
      ['crash', 'error', 0, [['a check with a bug in it', 'error', 0]]],
    ]);
    expect([all.status, all.score, all.maxScore]).toEqual(['error', 3, 7]);
    expect(validate(all)).toEqual([]);
  });

  it('when the app misbehaves, the message shows the request, the response, what was expected, and the hint', () => {
    const teapot = all.steps[1]?.checks[0];
    expect(teapot?.message).toContain('GET /teapot answered 404');
    expect(teapot?.message).toMatch(/request sent: GET http:\/\/127\.0\.0\.1:\d+\/teapot/);
    expect(teapot?.message).toContain('expected: status 418');
    expect(teapot?.hint).toBe('Brew tea at GET /teapot.');
    expect(teapot?.details?.response?.status).toBe(404);
  });

  it('when the check itself throws a TypeError, the check is an error, not a failure', () => {
    expect(all.steps[2]?.checks[0]?.message).toMatch(/^the check itself broke: TypeError/);
  });

  it('--step N grades steps 1..N and --only just N', () => {
    expect(gradeFixture(TINY_APP, ['1']).steps.map((s) => s.slug)).toEqual(['hello']);
    const two = gradeFixture(TINY_APP, ['broken']);
    expect([two.status, two.steps.map((s) => s.slug)]).toEqual(['fail', ['hello', 'broken']]);
    expect(gradeFixture(TINY_APP, ['2', '--only']).steps.map((s) => s.slug)).toEqual(['broken']);
  });

  it('gives the same grades for the same workspace', () => {
    expect(grades(gradeFixture(TINY_APP))).toEqual(grades(all));
  });
});

describe('grade() with checks that fail beside others', () => {
  it('runs a failing concurrent check again alone, and that verdict counts; a definite failure only once', () => {
    const r = gradeFixture(TINY_APP, [], { SANDBOX_FIXTURE_STEPS: 'retry-steps' });
    expect(r.steps[0]?.checks.map((c) => [c.name, c.status, c.message])).toEqual([
      ['GET /health answers 200', 'pass', ''],
      ['fails beside others', 'fail', 'attempt 2'],
      ['fails definitely', 'fail', 'attempt 1'],
    ]);
  });
});

describe('grade() when the run cannot be set up', () => {
  let broken: string;
  beforeAll(() => {
    broken = mkdtempSync(path.join(os.tmpdir(), 'sandbox-broken-'));
    writeFileSync(
      path.join(broken, 'package.json'),
      JSON.stringify({ scripts: { start: 'node server.js' } }),
    );
  });
  afterAll(() => rmSync(broken, { recursive: true, force: true }));

  it('a broken submission fails every selected check with the setup message, its logs once', () => {
    const r = gradeFixture(broken, ['2']);
    expect(r.status).toBe('fail');
    expect(r.steps.flatMap((s) => s.checks.map((c) => [c.status, c.message]))).toEqual([
      ['fail', 'the app did not start: server.js is missing'],
      ['fail', 'the app did not start: server.js is missing'],
      ['fail', 'the app did not start: server.js is missing'],
    ]);
    // The app's output is reported once, with the setup failure, not under each check.
    expect(r.setupFailure?.message).toContain('server.js is missing');
    expect(r.setupFailure?.logs).toContain('Cannot find module');
    expect(r.steps[0]?.checks[0]?.details?.logs).toBeUndefined();
    expect(validate(r)).toEqual([]);
  });

  it('a checker failure is an error result with its code and no grades', () => {
    const r = gradeFixture(TINY_APP, [], { SANDBOX_FIXTURE_CHECKER_ERROR: '1' });
    expect([r.status, r.error?.code, r.steps]).toEqual(['error', 'NO_ENGINE', []]);
    expect(validate(r)).toEqual([]);
  });
});
