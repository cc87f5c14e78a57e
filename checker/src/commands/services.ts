import type { Command } from 'commander';
import { EXIT, exitAfterFlush } from './exit';

/** Loaded when a services command runs, not for every `sandbox` command. */
const warm = (): typeof import('../services/warm-postgres') =>
  require('../services/warm-postgres') as typeof import('../services/warm-postgres');

/** `sandbox services up|down|status`: a warm private Postgres that checks reuse (each run still gets its own database). */
export function registerServices(program: Command): void {
  const services = program
    .command('services')
    .description(
      'keep a private Postgres warm between checks, so a re-check skips starting it (up, down, status)',
    );
  services
    .command('up')
    .description(
      'start the warm Postgres (no-op when it runs); `check` uses it until `services down`',
    )
    .action(async () => {
      const pg = await warm().startWarmPostgres();
      process.stdout.write(
        `Postgres is warm on 127.0.0.1:${pg.port} (pid ${pg.pid}). Stop it with \`npx sandbox services down\`.\n`,
      );
      await exitAfterFlush(EXIT.ok);
    });
  services
    .command('down')
    .description('stop the warm Postgres and remove its files')
    .action(async () => {
      const stopped = await warm().stopWarmPostgres();
      process.stdout.write(
        stopped ? 'The warm Postgres is stopped.\n' : 'No warm Postgres was running.\n',
      );
      await exitAfterFlush(EXIT.ok);
    });
  services
    .command('status')
    .description('whether the warm Postgres runs (exit 0) or not (exit 1)')
    .action(async () => {
      const pg = await warm().findWarmPostgres();
      process.stdout.write(
        pg
          ? `Postgres is warm on 127.0.0.1:${pg.port} (pid ${pg.pid}, since ${pg.startedAt}).\n`
          : 'No warm Postgres: each check starts its own (`npx sandbox services up` to keep one warm).\n',
      );
      await exitAfterFlush(pg ? EXIT.ok : EXIT.failed);
    });
}
