import type { CheckResult, RunResult } from '../checker/src/results/types';
import { setupFailure } from './support/grade-workspace';

const checkResult = (name: string, over: Partial<CheckResult> = {}): CheckResult => ({
  name,
  status: 'pass',
  points: 1,
  maxPoints: 1,
  message: '',
  hint: '',
  durationMs: 12,
  ...over,
});

const run = (checks: CheckResult[], over: Partial<RunResult> = {}): RunResult => ({
  schemaVersion: 1,
  status: 'fail',
  score: 0,
  maxScore: checks.length,
  workspace: '/w',
  startedAt: new Date(0).toISOString(),
  durationMs: 1,
  services: 'local',
  runtime: { kind: 'process', contained: true },
  steps: [
    {
      number: 1,
      slug: 'hello-server',
      title: 'Hello',
      status: 'fail',
      score: 0,
      maxScore: 2,
      checks,
    },
  ],
  ...over,
});

describe('setupFailure tells a run that never judged the app from one that did', () => {
  it('names the setup message when every check failed with it before running', () => {
    const failed = {
      status: 'fail' as const,
      message: 'npm run build failed (exit 2)',
      durationMs: 0,
      details: { summary: 'x', logs: 'tsc: error' },
    };
    const text = setupFailure(run([checkResult('a', failed), checkResult('b', failed)]));
    expect(text).toMatch(/whole run failed at setup.*npm run build failed \(exit 2\)/s);
    expect(text).toContain('tsc: error');
  });

  it('names the code when the checker could not grade at all', () => {
    const result = run([], {
      status: 'error',
      steps: [],
      error: { code: 'SERVICES_FAILED', message: 'no Postgres' },
    });
    expect(setupFailure(result)).toBe('the checker could not grade (SERVICES_FAILED): no Postgres');
  });

  it('is undefined when checks ran, even if they all failed', () => {
    const checks = [
      checkResult('a', { status: 'fail', message: 'GET /health answered 500' }),
      checkResult('b', { status: 'fail', message: 'GET /health answered 500' }),
    ];
    expect(setupFailure(run(checks))).toBeUndefined();
    expect(setupFailure(run([checkResult('a')]))).toBeUndefined();
  });
});
