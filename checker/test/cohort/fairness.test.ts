import { Worker } from 'bullmq';
import { createHash } from 'node:crypto';
import {
  QUEUE_NAME,
  redisConnection,
  type GradeJobData,
} from '../../src/cohort/queue/grading-queue';
import { rawTarGz } from './support/tar-builder';
import {
  joinAs,
  json,
  mentorWithCohort,
  REDIS_URL,
  startTestService,
  type TestService,
} from './support/service';

// The queue's order, read by a BullMQ worker that grades nothing (real Redis, about 4 s).
jest.setTimeout(60_000);
let service: TestService;
afterAll(async () => service?.dispose());

it('one learner submitting ten times does not hold back another learner’s first submission', async () => {
  service = await startTestService();
  const mentor = await mentorWithCohort(service);
  const busy = await joinAs(service, mentor.inviteCode, 'busy');
  const other = await joinAs(service, mentor.inviteCode, 'other');
  const send = async (token: string, content: string): Promise<void> => {
    const body = rawTarGz([{ name: 'index.js', data: content }]);
    const r = await json(service.url, 'POST', '/api/submissions', {
      token,
      raw: body,
      headers: { 'x-sandbox-sha256': createHash('sha256').update(body).digest('hex') },
    });
    expect(r.status).toBe(202);
  };
  for (let i = 0; i < 10; i++) await send(busy.token, `busy ${i}`);
  await send(other.token, 'other 0');
  const order: string[] = [];
  const worker = new Worker<GradeJobData>(
    QUEUE_NAME,
    async (job) => void order.push(job.data.learnerId === other.learnerId ? 'other' : 'busy'),
    { connection: redisConnection(REDIS_URL, true), prefix: service.queuePrefix, concurrency: 1 },
  );
  try {
    const deadline = Date.now() + 20_000;
    while (order.length < 11 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  } finally {
    await worker.close();
  }
  expect(order).toHaveLength(11);
  // busy's first job and other's first job have the same priority; busy's later ones wait behind.
  expect(order.indexOf('other')).toBeLessThanOrEqual(1);
});
