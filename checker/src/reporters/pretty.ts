import type {
  CheckResult,
  FailureDetails,
  RunResult,
  StepResult,
  TypeCheckResult,
} from '../results/types';
import { NOISY_HEADERS } from '../results/failure';
import { createStyle, type Style } from './style';
import { terminalSafe as safe } from './terminal-text';
import { sandboxCommand } from '../course/command-line';

const MAX_LOG_LINES = 15;
/** A failed install or build: the tool's own output says what to fix, so more of it is shown. */
const MAX_SETUP_LINES = 40;
/** Type errors shown in the terminal (the JSON result keeps more, and errorCount counts them all). */
const MAX_TYPE_ERRORS = 5;

/**
 * The terminal report: a setup failure once (with the tool's output), per step a header, per
 * check a mark and points, failures laid out, then what to do next. courseLength: how many
 * steps the course has, so the last one is not followed by "Next".
 */
export function formatPretty(
  result: RunResult,
  opts: { color: boolean; courseLength?: number },
): string {
  const s = createStyle(opts.color);
  const out: string[] = [];
  const setup = result.setupFailure;
  if (setup)
    out.push(
      s.red(`Your app could not be set up: ${safe(setup.message)}`),
      ...logLines(setup.logs, s, MAX_SETUP_LINES, 'output (last lines):'),
      s.dim('  Every check below failed without running because of this.'),
      '',
    );
  for (const step of result.steps) out.push(...stepLines(step, s, setup?.message), '');
  if (result.typeCheck) out.push(...typeCheckLines(result.typeCheck, s), '');
  if (result.error)
    out.push(
      s.red(
        `The checker could not grade ${result.steps.length ? 'everything' : 'this workspace'}: ${safe(result.error.message)}`,
      ),
      ...logLines(result.error.logs, s),
      '',
    );
  out.push(...summaryLines(result, s, opts.courseLength));
  return `${out.join('\n')}\n`;
}

function stepLines(step: StepResult, s: Style, setupMessage: string | undefined): string[] {
  const mark =
    step.status === 'pass'
      ? s.green('PASS')
      : step.status === 'fail'
        ? s.red('FAIL')
        : s.yellow('ERROR');
  const header = s.bold(`Step ${step.number}: ${safe(step.title)} (${safe(step.slug)})`);
  const lines = [`${mark} ${header}  ${step.score}/${step.maxScore}`];
  if (step.checks.length === 0) lines.push(s.dim('  (no checks yet)'));
  for (const check of step.checks) lines.push(...checkLines(check, s, setupMessage));
  return lines;
}

function checkLines(c: CheckResult, s: Style, setupMessage: string | undefined): string[] {
  const mark =
    c.status === 'pass' ? s.green('✓') : c.status === 'fail' ? s.red('✗') : s.yellow('!');
  const timing = c.status === 'pass' ? s.dim(` ${c.durationMs} ms`) : '';
  const lines = [`  ${mark} ${safe(c.name)}  ${c.points}/${c.maxPoints}${timing}`];
  if (c.status === 'pass') return lines;
  if (setupMessage !== undefined && c.message === setupMessage) return lines; // said once, above
  lines.push(...(c.details ? detailLines(c.details, s) : block(c.message, '      ')));
  if (c.hint) lines.push(`      ${s.yellow('hint:')} ${safe(c.hint)}`);
  if (c.details?.logs) lines.push(...logLines(c.details.logs, s));
  return lines;
}

function detailLines(d: FailureDetails, s: Style): string[] {
  const pad = '      ';
  const lines = [`${pad}${s.red(safe(d.summary))}`];
  if (d.request) {
    lines.push(`${pad}${s.dim('request sent:')} ${safe(d.request.method)} ${safe(d.request.url)}`);
    for (const [k, v] of Object.entries(d.request.headers))
      lines.push(`${pad}  ${s.dim(safe(`${k}: ${v}`))}`);
    if (d.request.body) lines.push(...block(d.request.body, `${pad}  `));
  }
  if (d.response) {
    lines.push(`${pad}${s.dim('response:')} ${d.response.status}`);
    for (const [k, v] of Object.entries(d.response.headers).filter(
      ([name]) => !NOISY_HEADERS.has(name),
    ))
      lines.push(`${pad}  ${s.dim(safe(`${k}: ${v}`))}`);
    if (d.response.body) lines.push(...block(d.response.body, `${pad}  `));
  }
  if (d.expected) lines.push(`${pad}${s.green('expected:')} ${safe(d.expected)}`);
  if (d.observed) lines.push(`${pad}${s.red('observed:')} ${safe(d.observed)}`);
  return lines;
}

/** The workspace's type check: reported under the steps, never part of the score. */
function typeCheckLines(t: TypeCheckResult, s: Style): string[] {
  const title = 'Type check (tsc --noEmit, not graded):';
  if (t.status === 'pass') return [s.dim(`${title} no errors.`)];
  if (t.status === 'error')
    return [s.yellow(`${title} could not finish: ${safe(t.message ?? 'no reason given')}`)];
  const lines = [
    s.yellow(
      `${title} ${t.errorCount} error${t.errorCount === 1 ? '' : 's'}; your app was graded on what it does.`,
    ),
  ];
  for (const e of t.errors.slice(0, MAX_TYPE_ERRORS)) {
    const where = e.file ? `${e.file}:${e.line}:${e.column}` : 'tsconfig.json';
    const [first = '', ...more] = e.message.split('\n');
    lines.push(`  ${safe(where)} ${s.dim(safe(e.code))} ${safe(first)}`);
    for (const m of more.slice(0, 2)) lines.push(`    ${s.dim(safe(m.trim()))}`);
  }
  const hidden = t.errorCount - Math.min(t.errors.length, MAX_TYPE_ERRORS);
  lines.push(
    s.dim(
      `  ${hidden > 0 ? `${hidden} more: run` : 'Run'} \`npm run typecheck\` in your workspace to see ${hidden > 0 ? 'them all' : 'them as you fix them'}.`,
    ),
  );
  return lines;
}

function logLines(
  logs: string | undefined,
  s: Style,
  max = MAX_LOG_LINES,
  title = 'app logs (last lines):',
): string[] {
  if (!logs?.trim()) return [];
  const tail = logs.trimEnd().split('\n').slice(-max);
  return [`      ${s.dim(title)}`, ...tail.map((l) => `        ${s.dim(safe(l))}`)];
}

function block(text: string, pad: string): string[] {
  return text.split('\n').map((l) => `${pad}${safe(l)}`);
}

function summaryLines(result: RunResult, s: Style, courseLength: number | undefined): string[] {
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
    nextStep(result, courseLength),
  ];
}

/** One line: where the workspace's code ran and whether the run's sandbox contained it. */
export function runtimeLine(runtime: RunResult['runtime']): string {
  const how = runtime.contained ? 'contained' : 'not contained';
  return `Runtime: ${runtime.kind}, ${how}${runtime.reason ? ` (${safe(runtime.reason)})` : ''}.`;
}

function nextStep(result: RunResult, courseLength: number | undefined): string {
  if (result.error?.code === 'STOPPED')
    return /interrupted/.test(result.error.message)
      ? 'Interrupted: this run was not graded to the end.'
      : `Stopped before the end (${safe(result.error.message)}): the checks that did not run count as errors. Run it again, or raise --timeout.`;
  if (result.status === 'pass') {
    const last = result.steps.at(-1);
    if (!last) return 'Nothing to grade.';
    if (courseLength !== undefined && last.number >= courseLength)
      return `Step ${last.number} is done: that was the last step. Compare with the reference: \`${sandboxCommand(`solution --step ${last.number}`)}\`.`;
    return `Step ${last.number} is done. Next: \`${sandboxCommand('next')}\`.`;
  }
  const firstBad = result.steps.find((st) => st.status !== 'pass');
  if (result.setupFailure && firstBad)
    return `Next: fix the setup problem above (its output says what; run the same command in your workspace to see all of it), then run \`${sandboxCommand(`check --step ${firstBad.number}`)}\`.`;
  if (!firstBad)
    return 'The checker could not grade everything: see the messages above, then run it again.';
  const check = easiestFailing(firstBad.checks);
  const what = check ? `"${safe(check.name)}"` : 'the first problem above';
  return `Next: fix ${what} (steps/${String(firstBad.number).padStart(2, '0')}-${firstBad.slug}/README.md), then run \`${sandboxCommand(`check --step ${firstBad.number}`)}\`.`;
}

/** The failing check to start with: the lesson's checks are worth more points as they get harder. */
function easiestFailing(checks: CheckResult[]): CheckResult | undefined {
  const failing = checks.filter((c) => c.status !== 'pass');
  return failing.reduce<CheckResult | undefined>(
    (best, c) => (best === undefined || c.maxPoints < best.maxPoints ? c : best),
    undefined,
  );
}
