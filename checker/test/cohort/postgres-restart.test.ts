import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { QUEUE_NAME, redisConnection } from '../../src/cohort/queue/grading-queue';
import { startEmbeddedPostgres } from '../../src/cohort/server/embedded';
import { startCohortService } from '../../src/cohort/server/start';
import { rawTarGz } from './support/tar-builder';
import { joinAs, json, mentorWithCohort, REDIS_URL, type TestService } from './support/service';

// A real Postgres server (the embedded one `sandbox serve` starts, on its own data folder) is
// stopped under the running service and started again on the same address: the service answers
// 503 while it is down, recovers by itself, and every submission it accepted with 202 is there.
jest.setTimeout(120_000);

async function eventually<T>(probe: () => Promise<T>, ok: (v: T) => boolean, ms = 30_000) {
  const deadline = Date.now() + ms;
  let last = await probe();
  while (!ok(last) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    last = await probe();
  }
  return last;
}

it('a real Postgres restarted under the service: 503 while it is down, then recovery, and no 202 lost', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cohort-pg-restart-'));
  chmodSync(dir, 0o755); // as root the server runs as the postgres user
  const queuePrefix = `cohort-test-${randomBytes(4).toString('hex')}`;
  let pg = await startEmbeddedPostgres(dir);
  const port = Number(new URL(pg.url).port);
  const running = await startCohortService({
    databaseUrl: pg.url,
    redisUrl: REDIS_URL,
    port: 0,
    host: '127.0.0.1',
    queuePrefix,
    reconcileEveryMs: 500,
    log: () => undefined,
  });
  const service: TestService = {
    ...running,
    databaseUrl: pg.url,
    queuePrefix,
    dispose: () => Promise.resolve(),
  };
  const submit = (token: string, variant: string) => {
    const body = rawTarGz([{ name: 'package.json', data: `{"name":"${variant}"}` }]);
    return json<{ submission: { id: string }; error: { code: string } }>(
      service.url,
      'POST',
      '/api/submissions',
      {
        token,
        raw: body,
        headers: { 'x-sandbox-sha256': createHash('sha256').update(body).digest('hex') },
      },
    );
  };
  try {
    const mentor = await mentorWithCohort(service);
    const ada = await joinAs(service, mentor.inviteCode, 'ada');
    const before = await submit(ada.token, 'before');
    expect(before.status).toBe(202);

    await pg.stop();
    const during = await submit(ada.token, 'during');
    expect([during.status, during.body.error.code]).toEqual([503, 'DATABASE_UNAVAILABLE']);
    const health = await json<{ checks: { database: string } }>(service.url, 'GET', '/health');
    expect([health.status, health.body.checks.database]).toEqual([503, 'down']);

    pg = await startEmbeddedPostgres(dir, port);
    const back = await eventually(
      () => json(service.url, 'GET', '/api/me', { token: ada.token }),
      (r) => r.status === 200,
    );
    expect(back.status).toBe(200);
    const after = await submit(ada.token, 'during');
    expect(after.status).toBe(202);
    // Every accepted submission is stored with its archive and has its grading job.
    const ids = [before.body.submission.id, after.body.submission.id];
    const stored = await service
      .db('submission_archives')
      .whereIn('submission_id', ids)
      .count<{ n: string }[]>({ n: '*' });
    expect(Number(stored[0]!.n)).toBe(2);
    for (const id of ids) {
      const state = await eventually(
        () => service.queue.state(id).catch(() => undefined),
        (s) => s !== undefined,
      );
      expect(['waiting', 'prioritized']).toContain(state);
    }
  } finally {
    await running.stop();
    const queue = new Queue(QUEUE_NAME, {
      connection: redisConnection(REDIS_URL, false),
      prefix: queuePrefix,
    });
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
