import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app';
import { AccessTokens } from './auth/access-tokens';
import { createSecurity } from './auth/security';
import { startJobs } from './jobs/jobs.module';
import { startRealtimeFeature, tokenAuthenticator } from './realtime/realtime.module';
import { type Deps, noNoteEvents } from './deps';
import type { Config } from './lib/config';
import { createDb, migrateLatest } from './lib/db';
import { Lifecycle } from './lib/lifecycle';
import { createLogger, type Logger } from './lib/logger';
import { closeRedis, createRedis, waitForRedis } from './lib/redis';

export interface StartOverrides {
  logger?: Logger;
}

export interface RunningApp {
  url: string;
  port: number;
  server: Server;
  deps: Deps;
  /** The one graceful shutdown; rejects with ShutdownDeadlineError when it takes too long. */
  stop(): Promise<void>;
}

export class ShutdownDeadlineError extends Error {
  override readonly name = 'ShutdownDeadlineError';
}

const REDIS_STARTUP_WAIT_MS = 2000;

/** Connects dependencies, migrates, listens (port 0 = any free port). */
export async function start(config: Config, overrides: StartOverrides = {}): Promise<RunningApp> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const db = createDb(config.databaseUrl, logger);
  // Migrate before anything reads a table (the revocation cache fills itself from Postgres).
  try {
    await migrateLatest(db);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  const redis = createRedis(config.redisUrl, 'cache', logger);
  const lifecycle = new Lifecycle();
  const security = createSecurity({ db, redis, logger });
  lifecycle.onClose('token revocations', () => security.revocations.close());
  // The worker runs in this process; stopping waits for the job in hand, the rest stay in Redis.
  const jobs = startJobs({ config, db, logger });
  lifecycle.onClose('email jobs', () => jobs.close());
  const deps: Deps = {
    config,
    logger,
    db,
    redis,
    lifecycle,
    noteEvents: noNoteEvents,
    onUserCreated: jobs.onUserCreated,
    verification: jobs.verification,
    security,
  };

  let server: Server | undefined;
  try {
    // Serve without the cache rather than not at all, but give Redis a moment so the first reads use it.
    if (!(await waitForRedis(redis, REDIS_STARTUP_WAIT_MS))) {
      logger.warn('redis is not reachable; serving without the cache until it is');
    }
    const realtime = await startRealtimeFeature({
      config,
      logger,
      redis,
      authenticate: tokenAuthenticator(new AccessTokens(config.jwtSecret), security.revocations),
    });
    // Open sockets would keep the HTTP server from draining: close them as soon as it stops accepting.
    lifecycle.onDrain('websockets', () => realtime.close());
    deps.noteEvents = realtime.noteEvents;

    const app = createApp(deps);
    server = createServer(app);
    realtime.attach(server);
    await listen(server, config.port);
  } catch (err) {
    server?.close();
    await lifecycle.drain(logger);
    await lifecycle.close(logger);
    await closeRedis(redis);
    await db.destroy();
    throw err;
  }

  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  logger.info({ port }, 'listening');
  const runningServer = server;
  let stopping: Promise<void> | undefined;
  return {
    url,
    port,
    server,
    deps,
    stop: () => (stopping ??= shutdown(runningServer, deps)),
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Stop accepting, let in-flight requests finish, run the registered closers, then Redis and knex. */
async function shutdown(server: Server, deps: Deps): Promise<void> {
  const { logger, lifecycle, redis, db, config } = deps;
  logger.info('shutting down');
  let deadline: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    deadline = setTimeout(() => {
      server.closeAllConnections();
      reject(new ShutdownDeadlineError(`shutdown took longer than ${config.shutdownTimeoutMs} ms`));
    }, config.shutdownTimeoutMs);
  });
  try {
    await Promise.race([
      (async () => {
        await Promise.all([closeHttp(server), lifecycle.drain(logger)]);
        await lifecycle.close(logger);
        await closeRedis(redis);
        await db.destroy();
      })(),
      expired,
    ]);
    logger.info('stopped');
  } finally {
    clearTimeout(deadline);
  }
}

/** Resolves once every in-flight request has been answered; idle keep-alive sockets are closed. */
function closeHttp(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    // Answers given while draining tell keep-alive clients not to reuse the connection.
    server.prependListener('request', (_req, res) => res.setHeader('Connection', 'close'));
    const sweeper = setInterval(() => server.closeIdleConnections(), 50);
    server.close((err) => {
      clearInterval(sweeper);
      if (err) reject(err);
      else resolve();
    });
    server.closeIdleConnections();
  });
}
