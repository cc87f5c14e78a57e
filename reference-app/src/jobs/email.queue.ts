import { Queue } from 'bullmq';
import type { Redis } from '../lib/redis';

/** What a verification job carries: the raw token lives only here and in the email. */
export interface VerificationJob {
  email: string;
  token: string;
}

export const VERIFICATION_JOB = 'verification-email';
export const EMAIL_JOB_ATTEMPTS = 8;

export interface EmailQueueOptions {
  connection: Redis;
  queueName: string;
  backoffMs: number;
}

export interface EmailQueue {
  /** Enqueues once per token: the job id derives from the token's hash, so a retried call adds nothing. */
  enqueueVerification(job: VerificationJob, tokenHash: string): Promise<void>;
  close(): Promise<void>;
}

export function createEmailQueue(opts: EmailQueueOptions): EmailQueue {
  const queue = new Queue<VerificationJob>(opts.queueName, { connection: opts.connection });
  return {
    async enqueueVerification(job, tokenHash) {
      await queue.add(VERIFICATION_JOB, job, {
        jobId: `verify-${tokenHash}`,
        attempts: EMAIL_JOB_ATTEMPTS,
        backoff: { type: 'exponential', delay: opts.backoffMs },
        removeOnComplete: true,
        removeOnFail: { age: 7 * 24 * 3600 },
      });
    },
    close: () => queue.close(),
  };
}
