import { Option, type Command } from 'commander';
import { EXIT, exitAfterFlush } from './exit';

// The cohort commands load their modules (Express, knex, BullMQ, tar) only when they run, so
// `sandbox --help` and the learner's other commands stay fast.
function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`"${value}" is not a positive whole number`);
  return n;
}

function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new Error(`"${value}" is not a port (0 picks a free one)`);
  return n;
}

/** Where a worker runs the learners' apps; every choice is contained (an uncontained one is refused). */
function runtimeOption(who: string): Option {
  return new Option(
    '--runtime <runtime>',
    `how ${who} runs the apps: process (contained processes; needs root, cgroups and iptables: \`sandbox doctor\`), container (needs a container engine and the images), auto: process where it is contained on this machine, else container`,
  )
    .choices(['auto', 'process', 'container'])
    .default('auto');
}

/** Reports a failure the way the other commands do (exit 2 = could not do its job). */
async function guarded(run: () => Promise<number>): Promise<void> {
  try {
    await exitAfterFlush(await run());
  } catch (e) {
    const { ServiceError } =
      require('../cohort/client/http') as typeof import('../cohort/client/http');
    const message =
      e instanceof ServiceError
        ? `${e.message} (${e.code})`
        : e instanceof Error
          ? e.message
          : String(e);
    process.stderr.write(`sandbox: ${message}\n`);
    await exitAfterFlush(EXIT.cannotGrade);
  }
}

/** serve, worker, join, submit, cohort: the cohort service and its clients (docs/mentor.md, docs/cohort-api.md). */
export function registerCohortCommands(program: Command): void {
  program
    .command('serve')
    .description(
      'run the cohort grading service (embedded Postgres and Redis unless DATABASE_URL / REDIS_URL are set)',
    )
    .addOption(
      new Option('--port <port>', 'port to listen on')
        .argParser(portNumber)
        .default(Number(process.env['PORT'] ?? 4100)),
    )
    .option('--host <host>', 'address to listen on (0.0.0.0 for other machines)', '127.0.0.1')
    .option(
      '--data <dir>',
      'folder of the embedded Postgres (default: SANDBOX_COHORT_DATA, else ~/.local/share/backend-sandbox/cohort; as root /var/lib/backend-sandbox/cohort)',
    )
    .option('--worker', 'grade in this process too (the default with the embedded Redis)')
    .option('--no-worker', 'do not grade in this process')
    .addOption(
      new Option('--concurrency <n>', 'gradings at once in the in-process worker')
        .argParser(positiveInt)
        .default(1),
    )
    .addOption(runtimeOption('the in-process worker'))
    .addHelpText(
      'after',
      '\nVariables: DATABASE_URL, REDIS_URL, SANDBOX_SESSION_SECRET, PUBLIC_URL, SANDBOX_MENTOR_EMAIL/PASSWORD (first mentor), SANDBOX_QUEUE_PREFIX (the same on the workers).',
    )
    .action(
      async (flags: {
        port: number;
        host: string;
        data?: string;
        worker?: boolean;
        concurrency: number;
        runtime: 'auto' | 'process' | 'container';
      }) => {
        try {
          const { runServe } =
            require('../cohort/server/serve') as typeof import('../cohort/server/serve');
          await runServe(flags);
        } catch (e) {
          process.stderr.write(`sandbox serve: ${e instanceof Error ? e.message : String(e)}\n`);
          await exitAfterFlush(EXIT.cannotGrade);
        }
      },
    );

  program
    .command('worker')
    .description(
      'grade submissions from the cohort queue, always contained (DATABASE_URL and REDIS_URL of the service)',
    )
    .addOption(runtimeOption('this worker'))
    .addOption(
      new Option('--concurrency <n>', 'gradings at once').argParser(positiveInt).default(1),
    )
    .addOption(
      new Option(
        '--drain-seconds <s>',
        'on SIGTERM, how long gradings in hand may finish before they are handed back',
      )
        .argParser(positiveInt)
        .default(120),
    )
    .action(
      async (flags: {
        concurrency: number;
        drainSeconds: number;
        runtime: 'auto' | 'process' | 'container';
      }) => {
        try {
          const { runWorker } =
            require('../cohort/worker/run-worker') as typeof import('../cohort/worker/run-worker');
          await runWorker(flags);
        } catch (e) {
          process.stderr.write(`sandbox worker: ${e instanceof Error ? e.message : String(e)}\n`);
          await exitAfterFlush(EXIT.cannotGrade);
        }
      },
    );

  program
    .command('join')
    .description('join a cohort with the invite code from your mentor (once)')
    .argument('<code>', 'the invite code')
    .requiredOption('--server <url>', 'the cohort service, e.g. http://mentor-laptop:4100')
    .option('--name <name>', 'your name as your mentor will see it')
    .action((code: string, flags: { server: string; name?: string }) =>
      guarded(() =>
        (require('../cohort/client/join') as typeof import('../cohort/client/join')).runJoin(
          code,
          flags,
        ),
      ),
    );

  program
    .command('submit')
    .description('send your workspace to your cohort for grading; --wait follows it to its grade')
    .option('--workspace <dir>', 'the workspace to submit (default: as for `check`)')
    .option('--step <n|slug>', 'grade steps 1..N (default: up to your next step)')
    .option('--wait', 'follow the grading and print the result; exit like `check`')
    .addOption(
      new Option('--wait-timeout <seconds>', 'with --wait, how long to follow')
        .argParser(positiveInt)
        .default(900),
    )
    .action((flags: { workspace?: string; step?: string; wait?: boolean; waitTimeout: number }) =>
      guarded(() =>
        (require('../cohort/client/submit') as typeof import('../cohort/client/submit')).runSubmit(
          flags,
        ),
      ),
    );

  const cohort = program
    .command('cohort')
    .description('mentor: manage cohorts on a cohort service');
  cohort
    .command('create')
    .description('create a cohort and print its invite code')
    .argument('<name>', 'the cohort name')
    .requiredOption('--server <url>', 'the cohort service')
    .option(
      '--email <email>',
      'your mentor email (the password is asked, or SANDBOX_MENTOR_PASSWORD)',
    )
    .action((name: string, flags: { server: string; email?: string }) =>
      guarded(() =>
        (
          require('../cohort/client/cohort-commands') as typeof import('../cohort/client/cohort-commands')
        ).runCohortCreate(name, flags),
      ),
    );
  cohort
    .command('invite')
    .description(
      'close a cohort’s invite code (learners who joined stay), or open the cohort with a fresh code',
    )
    .argument(
      '<cohort-id>',
      'the cohort’s id (printed by `cohort create`; in the dashboard, the cohort page’s address)',
    )
    .requiredOption('--server <url>', 'the cohort service')
    .option('--close', 'nobody joins with the code any more')
    .option('--open', 'a fresh invite code (the old one stays refused)')
    .option(
      '--email <email>',
      'your mentor email (the password is asked, or SANDBOX_MENTOR_PASSWORD)',
    )
    .action(
      (
        cohortId: string,
        flags: { server: string; email?: string; open?: boolean; close?: boolean },
      ) =>
        guarded(() =>
          (
            require('../cohort/client/cohort-commands') as typeof import('../cohort/client/cohort-commands')
          ).runCohortInvite(cohortId, flags),
        ),
    );
}
