import { Command, Option } from 'commander';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { formatJson } from '../reporters/json';
import { runtimeLine } from '../reporters/pretty';
import type { RunResult, ServicesMode } from '../results/types';
import { DEFAULT_TIMEOUT_SECONDS } from '../runner/defaults';
import { EXIT, exitAfterFlush } from './exit';
import { listenForInterrupt } from './interrupt';
import { outPathProblem, writeOutFile } from './out-file';

interface GradeFlags {
  out: string;
  step?: string;
  services: ServicesMode;
  runtime: 'process' | 'container';
  timeout: number;
  allowUncontained?: boolean;
}

/** `sandbox grade DIR...`: a grader's batch of other people's workspaces, one JSON result each. */
export function registerGrade(program: Command): void {
  program
    .command('grade')
    .description(
      'grade other people’s workspaces one after the other, each result as JSON in --out; refuses to run one uncontained unless --allow-uncontained',
    )
    .argument('<dirs...>', 'the workspaces to grade')
    .requiredOption('--out <dir>', 'folder for the results (DIR/<n>-<name>.json)')
    .option('--step <n|slug>', 'grade steps 1..N')
    .addOption(
      new Option('--services <mode>', 'where Postgres and Redis come from')
        .choices(['auto', 'local', 'containers'])
        .default('auto'),
    )
    .addOption(
      new Option('--runtime <runtime>', 'how the apps are run')
        .choices(['process', 'container'])
        .default('process'),
    )
    .addOption(
      new Option('--timeout <seconds>', 'time limit of each run')
        .argParser((v) => {
          const n = Number(v);
          if (!Number.isInteger(n) || n <= 0)
            throw new Error(`"${v}" is not a positive whole number of seconds`);
          return n;
        })
        .default(DEFAULT_TIMEOUT_SECONDS),
    )
    .option(
      '--allow-uncontained',
      'grade even when a run cannot be contained (its code then runs with the checker’s user’s rights; see docs/grader.md)',
    )
    .action(async (dirs: string[], flags: GradeFlags) =>
      exitAfterFlush(await runGrade(dirs, flags)),
    );
}

async function runGrade(dirs: string[], flags: GradeFlags): Promise<number> {
  const { grade } = require('../runner/grade') as typeof import('../runner/grade');
  const { loadPrepareRun } = require('../runner/prepare') as typeof import('../runner/prepare');
  mkdirSync(flags.out, { recursive: true });
  const interrupt = listenForInterrupt((m) => process.stderr.write(`${m}\n`));
  let worst: number = EXIT.ok;
  try {
    for (const [i, dir] of dirs.entries()) {
      const workspace = path.resolve(dir);
      const file = path.join(flags.out, `${i + 1}-${path.basename(workspace)}.json`);
      const problem = outPathProblem(file);
      if (problem) {
        process.stderr.write(`${problem}\n`);
        return EXIT.cannotGrade;
      }
      const result: RunResult = await grade(
        {
          workspace,
          services: flags.services,
          runtime: flags.runtime,
          timeoutSeconds: flags.timeout,
          requireContained: !flags.allowUncontained,
          signal: interrupt.signal,
          ...(flags.step ? { step: flags.step } : {}),
        },
        loadPrepareRun(),
      );
      writeOutFile(file, formatJson(result));
      process.stdout.write(
        `${workspace}: ${result.status} ${result.score}/${result.maxScore}${result.error ? ` (${result.error.code})` : ''}. ${runtimeLine(result.runtime)}\n`,
      );
      const code =
        result.status === 'pass'
          ? EXIT.ok
          : result.status === 'fail'
            ? EXIT.failed
            : EXIT.cannotGrade;
      worst = Math.max(worst, code);
      if (interrupt.received()) return interrupt.exitCode();
    }
  } finally {
    interrupt.remove();
  }
  return worst;
}
