import { Command, Option } from 'commander';
import { sandboxCommand } from '../course/command-line';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { FORMATS, formatResult, type Format } from '../reporters';
import { formatPretty } from '../reporters/pretty';
import { colorFor, createStyle } from '../reporters/style';
import type { RunResult, ServicesMode } from '../results/types';
import { DEFAULT_TIMEOUT_SECONDS } from '../runner/defaults';
import { loadStepsDir } from '../course/paths';
import { defaultStepsDir, UnknownStepError } from '../runner/steps';
import { EXIT, exitAfterFlush } from './exit';
import { isLearnersWorkspace, resolveWorkspace } from '../course/workspace';
import { rememberProgress } from './check-progress';
import { listenForInterrupt } from './interrupt';
import { liveLines } from './live-lines';
import { outPathProblem, writeOutFile } from './out-file';

interface CheckFlags {
  workspace?: string;
  step?: string;
  only?: boolean;
  format: Format;
  out?: string;
  services: ServicesMode;
  runtime: 'process' | 'container';
  databaseUrl?: string;
  redisUrl?: string;
  timeout: number;
  serial?: boolean;
  /** false with --no-progress. */
  progress: boolean;
  /** false with --no-type-check. */
  typeCheck: boolean;
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description(
      'grade a workspace: exit 0 when every selected step passes, 1 when one fails, 2 when it could not grade',
    )
    .option(
      '--workspace <dir>',
      'the workspace to grade (default: this folder if it is one, else the one `sandbox init` made)',
    )
    .option('--step <n|slug>', 'grade steps 1..N (earlier steps are re-checked for regressions)')
    .option('--only', 'with --step: grade just that step')
    .addOption(new Option('--format <format>', 'report format').choices(FORMATS).default('pretty'))
    .option(
      '--out <file>',
      'write the report to FILE, never through a symbolic link (the summary still goes to the terminal)',
    )
    .addOption(
      new Option('--services <mode>', 'where Postgres and Redis come from')
        .choices(['auto', 'local', 'containers'])
        .default('auto'),
    )
    .addOption(
      new Option('--runtime <runtime>', 'how the app is run')
        .choices(['process', 'container'])
        .default('process'),
    )
    .option('--database-url <url>', 'admin URL of a Postgres to create the run database on')
    .option('--redis-url <url>', 'URL of a Redis to use')
    .addOption(
      new Option('--timeout <seconds>', 'time limit of the whole run')
        .argParser(positiveInt)
        .default(DEFAULT_TIMEOUT_SECONDS),
    )
    .option(
      '--serial',
      'run every check alone, one after the other (slower; by default checks that only use their own users run side by side)',
    )
    .option('--no-progress', 'do not record this run in the workspace’s .sandbox/progress.json')
    .option(
      '--no-type-check',
      'skip the workspace’s own type check (tsc --noEmit, run beside the checks and reported, never graded)',
    )
    .addHelpText(
      'after',
      [
        '',
        'The steps come from the course (SANDBOX_STEPS_DIR overrides the folder). Progress goes to stderr.',
        'A workspace with TypeScript and a tsconfig.json is type-checked (tsc --noEmit) beside the',
        'checks, in the same sandbox as its build: the first errors are shown with file:line, and never',
        'change the grade. Unchanged sources are not type-checked again.',
        'Only the learner’s own finished runs are recorded in .sandbox/progress.json: not with',
        '--no-progress, not a run that was interrupted or could not grade, not a workspace owned by',
        'another user, and not a --workspace other than the one `sandbox init` made for this course.',
        'Ctrl-C or SIGTERM stop the run and everything it started; exit 130 (SIGINT) or 143 (SIGTERM).',
      ].join('\n'),
    )
    .action(async (flags: CheckFlags) => exitAfterFlush(await runCheck(flags)));
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`"${value}" is not a positive whole number of seconds`);
  return n;
}

async function runCheck(flags: CheckFlags): Promise<number> {
  const stderr = createStyle(colorFor(process.stderr));
  const reportListsChecks = flags.format === 'pretty' || Boolean(flags.out);
  const live = liveLines(process.stderr, stderr, { reportListsChecks });
  const cannot = (message: string): number => {
    live.done();
    process.stderr.write(`${stderr.red(message)}\n`);
    return EXIT.cannotGrade;
  };
  const workspace = resolveWorkspace(flags.workspace);
  if (!isWorkspace(workspace))
    return cannot(
      `${workspace} is not a workspace: pass --workspace DIR or run \`${sandboxCommand('init')}\`.`,
    );
  if (flags.only && !flags.step)
    return cannot('--only needs --step N: which step should be graded on its own?');
  const outProblem = flags.out ? outPathProblem(flags.out) : undefined;
  if (outProblem) return cannot(outProblem);

  const interrupt = listenForInterrupt(live.say);
  let result: RunResult;
  try {
    // Loaded here, not at the top: jest, the services and the engine client take about a
    // second to load, and `sandbox --help`, `next` or `status` need none of them.
    const { grade } = require('../runner/grade') as typeof import('../runner/grade');
    const { loadPrepareRun } = require('../runner/prepare') as typeof import('../runner/prepare');
    result = await grade(
      {
        workspace,
        services: flags.services,
        runtime: flags.runtime,
        timeoutSeconds: flags.timeout,
        signal: interrupt.signal,
        onProgress: live.say,
        onCheck: (_step, c) => live.check(c),
        ...(flags.step ? { step: flags.step } : {}),
        ...(flags.only ? { only: true } : {}),
        ...(flags.serial ? { concurrency: 1 } : {}),
        ...(flags.typeCheck ? { typeCheck: true } : {}),
        ...(flags.databaseUrl ? { databaseUrl: flags.databaseUrl } : {}),
        ...(flags.redisUrl ? { redisUrl: flags.redisUrl } : {}),
      },
      loadPrepareRun(),
    );
  } catch (e) {
    if (interrupt.received()) return interrupted(interrupt.exitCode(), live.done);
    if (e instanceof UnknownStepError) return cannot(e.message);
    return cannot(
      `The checker failed: ${e instanceof Error ? e.message : String(e)}. Run \`npx sandbox doctor\` to see what this machine lacks.`,
    );
  } finally {
    interrupt.remove();
  }
  live.done();
  if (interrupt.received()) {
    // A grader's file still gets what finished (status error, code STOPPED); the terminal gets no advice.
    if (flags.out || flags.format !== 'pretty') report(result, flags);
    return interrupted(interrupt.exitCode(), live.done);
  }
  report(result, flags);
  const learnersOwn = isLearnersWorkspace(workspace, flags.workspace !== undefined);
  rememberProgress(
    workspace,
    result,
    { progress: flags.progress, learnersOwn, interrupted: false },
    live.say,
  );
  return result.status === 'pass'
    ? EXIT.ok
    : result.status === 'fail'
      ? EXIT.failed
      : EXIT.cannotGrade;
}

/** After Ctrl-C or SIGTERM: no report and no advice, just what happened (the run is not recorded). */
function interrupted(code: number, clear: () => void): number {
  clear();
  process.stderr.write(
    'Interrupted: the app and the services were stopped; this run was not graded or recorded.\n',
  );
  return code;
}

function report(result: RunResult, flags: CheckFlags): void {
  const courseLength = loadStepsDir(defaultStepsDir()).length;
  if (flags.out) {
    writeOutFile(flags.out, formatResult(result, flags.format, { color: false, courseLength }));
    process.stdout.write(formatPretty(result, { color: colorFor(process.stdout), courseLength }));
    process.stderr.write(`Report (${flags.format}) written to ${flags.out}\n`);
    return;
  }
  process.stdout.write(
    formatResult(result, flags.format, { color: colorFor(process.stdout), courseLength }),
  );
}

function isWorkspace(dir: string): boolean {
  const pkgPath = path.join(dir, 'package.json');
  if (!existsSync(pkgPath)) return false;
  try {
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { scripts?: Record<string, unknown> };
    return typeof pkg.scripts?.['start'] === 'string' && pkg.scripts['start'].trim() !== '';
  } catch {
    return false;
  }
}
