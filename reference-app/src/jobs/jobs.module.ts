import type { Config } from '../lib/config';
import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import { closeRedis, createRedis } from '../lib/redis';
import { redisNamespace } from '../lib/redis-namespace';
import type { User } from '../users/users.types';
import { createEmailQueue } from './email.queue';
import { startEmailWorker } from './email.worker';
import { createMailer } from './mailer';
import { createVerificationService, type VerificationService } from './verification.service';
import { createVerificationTokensRepository } from './verification-tokens.repository';

export interface Jobs {
  verification: VerificationService;
  onUserCreated(user: User): Promise<void>;
  /** Stops the worker (the job in hand finishes), then the queue, the mailer and their Redis connection. */
  close(): Promise<void>;
}

/** The email pipeline of step 7: producer and worker in this process, jobs kept in Redis. */
export function startJobs(deps: { config: Config; db: Db; logger: Logger }): Jobs {
  const { config, db, logger } = deps;
  const connection = createRedis(config.redisUrl, 'queue', logger);
  const queueName = `email-${redisNamespace(config.databaseUrl)}`;
  const queue = createEmailQueue({ connection, queueName, backoffMs: config.jobBackoffMs });
  const mailer = createMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom });
  const worker = startEmailWorker({
    connection,
    queueName,
    mailer,
    publicUrl: config.publicUrl,
    logger,
  });
  const verification = createVerificationService({
    db,
    tokens: createVerificationTokensRepository(db),
    queue,
    logger,
    tokenTtlSeconds: config.verifyTokenTtlSeconds,
  });
  return {
    verification,
    onUserCreated: (user) => verification.sendVerification(user),
    async close() {
      await worker.close();
      await queue.close();
      mailer.close();
      await closeRedis(connection);
    },
  };
}
