import { type Config, loadConfig } from './lib/config';
import { start } from './start';

/** The process entry: config once, start, and one graceful shutdown on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }

  const app = await start(config);
  const onSignal = (signal: NodeJS.Signals) => {
    app.deps.logger.info({ signal }, 'signal received');
    app.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        app.deps.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

main().catch((err: unknown) => {
  console.error('failed to start:', err);
  process.exit(1);
});
