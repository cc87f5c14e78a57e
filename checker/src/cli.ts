import { Command, CommanderError } from 'commander';
import { commands } from './commands';
import { EXIT } from './commands/exit';

export function buildProgram(): Command {
  const program = new Command('sandbox')
    .description(
      'backend-sandbox: build a real backend step by step, graded by an automated checker',
    )
    .version(version(), '-V, --version')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  for (const register of commands) register(program);
  program.commands.forEach((c) => c.exitOverride());
  return program;
}

/** Runs the CLI; usage mistakes exit 2 (the checker could not grade), --help and --version exit 0. */
export async function main(argv: string[]): Promise<void> {
  outputMayGoAway();
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? EXIT.ok : EXIT.cannotGrade;
      return;
    }
    process.stderr.write(`sandbox: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = EXIT.cannotGrade;
  }
}

/**
 * A reader that went away (`sandbox serve | tee log` ended by the same Ctrl-C, `| head`): what is
 * left to say is dropped, and the command still stops what it started instead of dying of EPIPE
 * (which left the embedded Postgres of `serve` running).
 */
function outputMayGoAway(): void {
  for (const stream of [process.stdout, process.stderr])
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
    });
}

function version(): string {
  return (require('../package.json') as { version: string }).version;
}

if (require.main === module) void main(process.argv);
