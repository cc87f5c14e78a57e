import { Worker } from 'bullmq';
import type { Redis } from '../lib/redis';
import type { Logger } from '../lib/logger';
import type { VerificationJob } from './email.queue';
import type { Mailer } from './mailer';
import { verificationEmail, verificationLink } from './verification-email';

export interface EmailWorkerOptions {
  connection: Redis;
  queueName: string;
  mailer: Mailer;
  publicUrl: string;
  logger: Logger;
}

export interface EmailWorker {
  /** Waits for the job in hand to finish; unstarted jobs stay in Redis for the next start. */
  close(): Promise<void>;
}

export function startEmailWorker(opts: EmailWorkerOptions): EmailWorker {
  const worker = new Worker<VerificationJob>(
    opts.queueName,
    async (job) => {
      const link = verificationLink(opts.publicUrl, job.data.token);
      await opts.mailer.send(verificationEmail(job.data.email, link));
    },
    // A job held by a killed process is taken back after its lock lapses: keep that short.
    { connection: opts.connection, concurrency: 4, lockDuration: 10_000, stalledInterval: 5_000 },
  );
  worker.on('failed', (job, err) => {
    opts.logger.warn(
      { jobId: job?.id, attempt: job?.attemptsMade, err: err.message },
      'email job failed',
    );
  });
  worker.on('error', (err) => opts.logger.error({ err: err.message }, 'email worker error'));
  return { close: () => worker.close() };
}
