import { createHash } from 'node:crypto';
import { startFaultProxy, type FaultProxy } from '../../src/services/fault-proxy';
import { rawTarGz } from './support/tar-builder';
import {
  ADMIN_URL,
  joinAs,
  json,
  mentorWithCohort,
  REDIS_URL,
  startTestService,
  through,
  type TestService,
} from './support/service';

// The service in front of Postgres and Redis that go away and come back (TCP fault proxies
// cut every connection and refuse new ones). About 10 s.
jest.setTimeout(90_000);
let service: TestService;
let pgProxy: FaultProxy;
let redisProxy: FaultProxy;
let learner: { token: string; learnerId: string };

beforeAll(async () => {
  const pg = new URL(ADMIN_URL);
  const redis = new URL(REDIS_URL);
  pgProxy = await startFaultProxy({ host: pg.hostname, port: Number(pg.port || 5432) });
  redisProxy = await startFaultProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
  service = await startTestService({
    databaseUrl: (url) => through(url, pgProxy.port),
    redisUrl: through(REDIS_URL, redisProxy.port),
    reconcileEveryMs: 500,
  });
  const mentor = await mentorWithCohort(service);
  learner = await joinAs(service, mentor.inviteCode, 'ada');
});
afterAll(async () => {
  await pgProxy?.toggle.up();
  await redisProxy?.toggle.up();
  await service?.dispose();
  await pgProxy?.close();
  await redisProxy?.close();
});

async function eventually<T>(
  probe: () => Promise<T>,
  ok: (v: T) => boolean,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last = await probe();
  while (!ok(last) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    last = await probe();
  }
  return last;
}

it('with Postgres away, requests answer 503 DATABASE_UNAVAILABLE quickly, then recover', async () => {
  await pgProxy.toggle.down();
  const started = Date.now();
  const me = await json<{ error: { code: string } }>(service.url, 'GET', '/api/me', {
    token: learner.token,
  });
  expect([me.status, me.body.error.code]).toEqual([503, 'DATABASE_UNAVAILABLE']);
  expect(me.headers.get('retry-after')).toBe('2');
  expect(Date.now() - started).toBeLessThan(8000);
  const health = await json<{ checks: { database: string } }>(service.url, 'GET', '/health');
  expect([health.status, health.body.checks.database]).toEqual([503, 'down']);
  await pgProxy.toggle.up();
  const back = await eventually(
    () => json(service.url, 'GET', '/api/me', { token: learner.token }),
    (r) => r.status === 200,
  );
  expect(back.status).toBe(200);
});

it('with Redis away, a submission is still accepted (202) and queued once Redis is back', async () => {
  await redisProxy.toggle.down();
  const body = rawTarGz([{ name: 'package.json', data: '{"scripts":{"start":"node ."}}' }]);
  const r = await json<{ submission: { id: string } }>(service.url, 'POST', '/api/submissions', {
    token: learner.token,
    raw: body,
    headers: { 'x-sandbox-sha256': createHash('sha256').update(body).digest('hex') },
  });
  expect(r.status).toBe(202);
  const health = await json<{ checks: { redis: string } }>(service.url, 'GET', '/health');
  expect([health.status, health.body.checks.redis]).toEqual([200, 'down']);
  await redisProxy.toggle.up();
  // The reconciler finds the stored submission without a job and queues it.
  const state = await eventually(
    () => service.queue.state(r.body.submission.id).catch(() => undefined),
    (s) => s !== undefined,
  );
  expect(['waiting', 'prioritized']).toContain(state);
});
