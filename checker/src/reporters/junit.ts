import type { CheckResult, RunResult, StepResult } from '../results/types';

/** JUnit XML: one testsuite per step, one testcase per check. */
export function formatJunit(result: RunResult): string {
  const checks = result.steps.flatMap((s) => s.checks);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="backend-sandbox" tests="${checks.length}" failures="${count(checks, 'fail')}" errors="${count(checks, 'error')}" time="${seconds(result.durationMs)}">`,
    ...result.steps.flatMap(suite),
  ];
  if (result.error) {
    lines.push(`  <testsuite name="checker" tests="1" failures="0" errors="1">`);
    lines.push(`    <testcase classname="checker" name="${attr(result.error.code)}">`);
    lines.push(
      `      <error message="${attr(result.error.message)}">${text(result.error.logs ?? result.error.message)}</error>`,
    );
    lines.push('    </testcase>', '  </testsuite>');
  }
  lines.push('</testsuites>', '');
  return lines.join('\n');
}

function suite(step: StepResult): string[] {
  const time = seconds(step.checks.reduce((a, c) => a + c.durationMs, 0));
  const name = `${String(step.number).padStart(2, '0')}-${step.slug}`;
  return [
    `  <testsuite name="${attr(name)}" tests="${step.checks.length}" failures="${count(step.checks, 'fail')}" errors="${count(step.checks, 'error')}" time="${time}">`,
    ...step.checks.flatMap((c) => testcase(name, c)),
    '  </testsuite>',
  ];
}

function testcase(classname: string, check: CheckResult): string[] {
  const open = `    <testcase classname="${attr(classname)}" name="${attr(check.name)}" time="${seconds(check.durationMs)}"`;
  if (check.status === 'pass') return [`${open}/>`];
  const tag = check.status === 'fail' ? 'failure' : 'error';
  const summary = check.message.split('\n')[0] ?? '';
  const body = check.hint ? `${check.message}\n\nhint: ${check.hint}` : check.message;
  return [
    `${open}>`,
    `      <${tag} message="${attr(summary)}">${text(body)}</${tag}>`,
    '    </testcase>',
  ];
}

const count = (checks: CheckResult[], status: CheckResult['status']): number =>
  checks.filter((c) => c.status === status).length;
const seconds = (ms: number): string => (ms / 1000).toFixed(3);

// XML 1.0 forbids most control characters, even escaped.
// eslint-disable-next-line no-control-regex
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

function text(value: string): string {
  return value
    .replace(INVALID_XML, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

function attr(value: string): string {
  return text(value).replace(/"/g, '&quot;').replace(/\n/g, '&#10;');
}
