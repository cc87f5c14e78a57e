import type { RunResult } from '../results/types';

/** Gradescope's results.json (autograder specification): one test per check. */
export interface GradescopeResults {
  score: number;
  max_score: number;
  output: string;
  tests: {
    name: string;
    score: number;
    max_score: number;
    output: string;
    status: 'passed' | 'failed';
  }[];
}

export function toGradescope(result: RunResult): GradescopeResults {
  const tests = result.steps.flatMap((step) =>
    step.checks.map((c) => ({
      name: `${step.number}. ${step.slug}: ${c.name}`,
      score: c.points,
      max_score: c.maxPoints,
      output: c.status === 'pass' ? '' : c.hint ? `${c.message}\n\nHint: ${c.hint}` : c.message,
      status: c.status === 'pass' ? ('passed' as const) : ('failed' as const),
    })),
  );
  const output = result.error
    ? `The checker could not grade everything: ${result.error.message}`
    : `Score ${result.score}/${result.maxScore}`;
  const runtime = `${result.runtime.kind} runtime, ${result.runtime.contained ? 'contained' : `not contained: ${result.runtime.reason ?? 'no sandbox'}`}`;
  return {
    score: result.score,
    max_score: result.maxScore,
    output: `${output}\n(${runtime})`,
    tests,
  };
}

export function formatGradescope(result: RunResult): string {
  return `${JSON.stringify(toGradescope(result), null, 2)}\n`;
}
