import { Command, Option } from 'commander';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FORMATS, formatResult, type Format } from '../reporters';
import { formatPretty } from '../reporters/pretty';
import { colorFor, createStyle } from '../reporters/style';
import type { RunResult, ServicesMode } from '../results/types';
import { DEFAULT_TIMEOUT_SECONDS, grade } from '../runner/grade';
import { loadPrepareRun } from '../runner/prepare';
import { UnknownStepError } from '../runner/steps';
import { EXIT, exitAfterFlush } from './exit';
import { recordRun } from '../course/progress';
import { resolveWorkspace } from '../course/workspace';

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
    .option('--out <file>', 'write the report to FILE (the summary still goes to the terminal)')
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
    .addHelpText(
      'after',
      '\nThe steps come from the course (SANDBOX_STEPS_DIR overrides the folder). Progress goes to stderr.',
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
  const say = (message: string): void => void process.stderr.write(`${stderr.dim(message)}\n`);
  const cannot = (message: string): number => {
    process.stderr.write(`${stderr.red(message)}\n`);
    return EXIT.cannotGrade;
  };
  const workspace = resolveWorkspace(flags.workspace);
  if (!isWorkspace(workspace))
    return cannot(
      `${workspace} is not a workspace: pass --workspace DIR or run \`npx sandbox init\`.`,
    );
  if (flags.only && !flags.step)
    return cannot('--only needs --step N: which step should be graded on its own?');

  const interrupt = new AbortController();
  const onSigint = (): void => {
    if (interrupt.signal.aborted) process.exit(EXIT.interrupted);
    say('Interrupted: stopping the app and the services (Ctrl-C again to quit at once)...');
    interrupt.abort();
  };
  process.on('SIGINT', onSigint);
  let result: RunResult;
  try {
    result = await grade(
      {
        workspace,
        services: flags.services,
        runtime: flags.runtime,
        timeoutSeconds: flags.timeout,
        signal: interrupt.signal,
        onProgress: say,
        onCheck: (_step, c) =>
          say(`  ${c.status === 'pass' ? '✓' : c.status === 'fail' ? '✗' : '!'} ${c.name}`),
        ...(flags.step ? { step: flags.step } : {}),
        ...(flags.only ? { only: true } : {}),
        ...(flags.serial ? { concurrency: 1 } : {}),
        ...(flags.databaseUrl ? { databaseUrl: flags.databaseUrl } : {}),
        ...(flags.redisUrl ? { redisUrl: flags.redisUrl } : {}),
      },
      loadPrepareRun(),
    );
  } catch (e) {
    if (e instanceof UnknownStepError) return cannot(e.message);
    return cannot(
      `The checker failed: ${e instanceof Error ? e.message : String(e)}. Run \`npx sandbox doctor\` to see what this machine lacks.`,
    );
  } finally {
    process.off('SIGINT', onSigint);
  }
  report(result, flags);
  rememberProgress(workspace, result);
  if (interrupt.signal.aborted) return EXIT.interrupted;
  return result.status === 'pass'
    ? EXIT.ok
    : result.status === 'fail'
      ? EXIT.failed
      : EXIT.cannotGrade;
}

function report(result: RunResult, flags: CheckFlags): void {
  if (flags.out) {
    writeFileSync(flags.out, formatResult(result, flags.format, { color: false }));
    process.stdout.write(formatPretty(result, { color: colorFor(process.stdout) }));
    process.stderr.write(`Report (${flags.format}) written to ${flags.out}\n`);
    return;
  }
  process.stdout.write(formatResult(result, flags.format, { color: colorFor(process.stdout) }));
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

/** Keeps the per-step results in the workspace for status, next, hint and solution; never fails the run. */
function rememberProgress(workspace: string, result: RunResult): void {
  if (result.steps.length === 0) return;
  try {
    recordRun(workspace, result);
  } catch (e) {
    process.stderr.write(`(progress not saved: ${e instanceof Error ? e.message : String(e)})\n`);
  }
}
