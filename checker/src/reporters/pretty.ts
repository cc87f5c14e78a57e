import type { CheckResult, FailureDetails, RunResult, StepResult } from '../results/types';
import { NOISY_HEADERS } from '../results/failure';
import { createStyle, type Style } from './style';

const MAX_LOG_LINES = 15;

/** The terminal report: per step a header, per check a mark and points, failures laid out, then what to do next. */
export function formatPretty(result: RunResult, opts: { color: boolean }): string {
  const s = createStyle(opts.color);
  const out: string[] = [];
  for (const step of result.steps) out.push(...stepLines(step, s), '');
  if (result.error)
    out.push(
      s.red(
        `The checker could not grade ${result.steps.length ? 'everything' : 'this workspace'}: ${result.error.message}`,
      ),
      ...logLines(result.error.logs, s),
      '',
    );
  out.push(...summaryLines(result, s));
  return `${out.join('\n')}\n`;
}

function stepLines(step: StepResult, s: Style): string[] {
  const mark =
    step.status === 'pass'
      ? s.green('PASS')
      : step.status === 'fail'
        ? s.red('FAIL')
        : s.yellow('ERROR');
  const header = s.bold(`Step ${step.number}: ${step.title} (${step.slug})`);
  const lines = [`${mark} ${header}  ${step.score}/${step.maxScore}`];
  if (step.checks.length === 0) lines.push(s.dim('  (no checks yet)'));
  for (const check of step.checks) lines.push(...checkLines(check, s));
  return lines;
}

function checkLines(c: CheckResult, s: Style): string[] {
  const mark =
    c.status === 'pass' ? s.green('✓') : c.status === 'fail' ? s.red('✗') : s.yellow('!');
  const timing = c.status === 'pass' ? s.dim(` ${c.durationMs} ms`) : '';
  const lines = [`  ${mark} ${c.name}  ${c.points}/${c.maxPoints}${timing}`];
  if (c.status === 'pass') return lines;
  lines.push(
    ...(c.details ? detailLines(c.details, s) : c.message.split('\n').map((l) => `      ${l}`)),
  );
  if (c.hint) lines.push(`      ${s.yellow('hint:')} ${c.hint}`);
  if (c.details?.logs) lines.push(...logLines(c.details.logs, s));
  return lines;
}

function detailLines(d: FailureDetails, s: Style): string[] {
  const pad = '      ';
  const lines = [`${pad}${s.red(d.summary)}`];
  if (d.request) {
    lines.push(`${pad}${s.dim('request sent:')} ${d.request.method} ${d.request.url}`);
    for (const [k, v] of Object.entries(d.request.headers))
      lines.push(`${pad}  ${s.dim(`${k}: ${v}`)}`);
    if (d.request.body) lines.push(...block(d.request.body, `${pad}  `));
  }
  if (d.response) {
    lines.push(`${pad}${s.dim('response:')} ${d.response.status}`);
    for (const [k, v] of Object.entries(d.response.headers).filter(
      ([name]) => !NOISY_HEADERS.has(name),
    ))
      lines.push(`${pad}  ${s.dim(`${k}: ${v}`)}`);
    if (d.response.body) lines.push(...block(d.response.body, `${pad}  `));
  }
  if (d.expected) lines.push(`${pad}${s.green('expected:')} ${d.expected}`);
  if (d.observed) lines.push(`${pad}${s.red('observed:')} ${d.observed}`);
  return lines;
}

function logLines(logs: string | undefined, s: Style): string[] {
  if (!logs?.trim()) return [];
  const tail = logs.trimEnd().split('\n').slice(-MAX_LOG_LINES);
  return [`      ${s.dim('app logs (last lines):')}`, ...tail.map((l) => `        ${s.dim(l)}`)];
}

function block(text: string, pad: string): string[] {
  return text.split('\n').map((l) => `${pad}${l}`);
}

function summaryLines(result: RunResult, s: Style): string[] {
  const checks = result.steps.flatMap((st) => st.checks);
  const passed = checks.filter((c) => c.status === 'pass').length;
  const failed = checks.filter((c) => c.status === 'fail').length;
  const errors = checks.filter((c) => c.status === 'error').length;
  const counts = [
    `${passed} passed`,
    `${failed} failed`,
    ...(errors ? [`${errors} errors`] : []),
  ].join(', ');
  const line = `${counts} · score ${result.score}/${result.maxScore} · ${(result.durationMs / 1000).toFixed(1)} s`;
  return [
    result.status === 'pass'
      ? s.green(line)
      : result.status === 'fail'
        ? s.red(line)
        : s.yellow(line),
    s.dim(runtimeLine(result.runtime)),
    nextStep(result),
  ];
}

/** One line: where the workspace's code ran and whether the run's sandbox contained it. */
export function runtimeLine(runtime: RunResult['runtime']): string {
  const how = runtime.contained ? 'contained' : 'not contained';
  return `Runtime: ${runtime.kind}, ${how}${runtime.reason ? ` (${runtime.reason})` : ''}.`;
}

function nextStep(result: RunResult): string {
  if (result.status === 'pass') {
    const last = result.steps.at(-1);
    return last ? `Step ${last.number} is done. Next: \`npx sandbox next\`.` : 'Nothing to grade.';
  }
  const firstBad = result.steps.find((st) => st.status !== 'pass');
  if (!firstBad) return 'Fix what the checker reported above and run it again.';
  const check = firstBad.checks.find((c) => c.status !== 'pass');
  const what = check ? `"${check.name}"` : 'the first problem above';
  return `Next: fix ${what} (steps/${String(firstBad.number).padStart(2, '0')}-${firstBad.slug}/README.md), then run \`npx sandbox check --step ${firstBad.number}\`.`;
}
