import type { Logger } from './logger';

type Close = () => Promise<void> | void;

interface Entry {
  name: string;
  close: Close;
}

/**
 * The shutdown registry. `onDrain` hooks run as soon as the HTTP server stops accepting
 * (e.g. close the WebSocket server, whose sockets would otherwise keep HTTP from draining);
 * `onClose` hooks run in registration order after in-flight requests finished
 * (e.g. the BullMQ worker). Redis and knex are closed after all of them by start().
 */
export class Lifecycle {
  private readonly drainers: Entry[] = [];
  private readonly closers: Entry[] = [];

  onDrain(name: string, close: Close): void {
    this.drainers.push({ name, close });
  }

  onClose(name: string, close: Close): void {
    this.closers.push({ name, close });
  }

  async drain(logger: Logger): Promise<void> {
    await Promise.all(this.drainers.map((entry) => runQuietly(entry, logger)));
  }

  async close(logger: Logger): Promise<void> {
    for (const entry of this.closers) await runQuietly(entry, logger);
  }
}

async function runQuietly({ name, close }: Entry, logger: Logger): Promise<void> {
  try {
    await close();
  } catch (err) {
    logger.error({ err, name }, 'error while closing');
  }
}
