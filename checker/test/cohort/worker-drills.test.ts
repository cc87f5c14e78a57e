import { countOwnedBy, ENGINE_SETUP_HINT, findEngine } from '../../src/engine';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import os from 'node:os';
import { stillAlive } from '../support/leftovers';
import { freePort } from '../../src/services/ports';
import { findRedisServer } from '../../src/services/binaries';
import { joinAs, mentorWithCohort, startTestService, type TestService } from './support/service';
import {
  gradingChildrenOf,
  spawnWorker,
  stopWorkers,
  submitTiny,
  type WorkerProcess,
} from './support/workers';

// Workers as separate processes (the built CLI) grading tiny step-1 workspaces in the container
// runtime, on a private redis-server this test can kill and restart, and the machine's Postgres.
// Needs a container engine with the images (docker/images/build.sh). About 3-5 min under load.
jest.setTimeout(600_000);

let service: TestService;
let redis: ChildProcess;
let redisPort: number;
let workerEnv: Record<string, string>;
const workers: WorkerProcess[] = [];
/** Every worker started, killed ones included: their logs name the infrastructure retries. */
const spawned: WorkerProcess[] = [];
const started = async (w: Promise<WorkerProcess>): Promise<WorkerProcess> => {
  const worker = await w;
  spawned.push(worker);
  return worker;
};
/** Attempts that failed for infrastructure reasons (the checker's exit 2, e.g. an image pruned by a concurrent run) or lost their lock under load, as the workers logged them. */
const infraRetries = (id: string): number =>
  spawned
    .flatMap((w) => w.output().split('\n'))
    .filter((l) => l.includes(`submission ${id}: attempt`)).length;
let killedPid = 0;
let mentor: Awaited<ReturnType<typeof mentorWithCohort>>;

function startRedis(): Promise<ChildProcess> {
  const child = spawn(
    findRedisServer() ?? 'redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('Ready to accept connections')) resolve(child);
    });
    child.once('exit', () => reject(new Error(`redis-server exited: ${out}`)));
  });
}

beforeAll(async () => {
  // No engine is a failure that says how to get one (never a silent skip).
  if (!(await findEngine())) throw new Error(ENGINE_SETUP_HINT);
  redisPort = await freePort();
  redis = await startRedis();
  service = await startTestService({
    redisUrl: `redis://127.0.0.1:${redisPort}`,
    reconcileEveryMs: 1000,
    gradeRetry: { attempts: 3, backoffMs: 300 },
  });
  mentor = await mentorWithCohort(service);
  workerEnv = {
    DATABASE_URL: service.databaseUrl,
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    SANDBOX_QUEUE_PREFIX: service.queuePrefix,
    // A killed worker's job is taken over after about this long (the default is 30 s).
    SANDBOX_WORKER_LOCK_MS: '10000',
  };
});

afterAll(async () => {
  // SIGTERM, so each worker stops its warm service containers; SIGKILL for one that does not exit in time.
  await stopWorkers(spawned);
  await service?.dispose();
  redis?.kill('SIGKILL');
});

const submit = (learnerToken: string, variant: string): Promise<string> =>
  submitTiny(service, learnerToken, variant);

interface Row {
  status: string;
  attempts: number;
  worker: string | null;
  result_worker: string | null;
  exit_code: number | null;
  result_status: string | null;
}
const row = async (id: string): Promise<Row> =>
  (await service
    .db('submissions as s')
    .leftJoin('results as r', 'r.submission_id', 's.id')
    .where('s.id', id)
    .first(
      's.status',
      's.attempts',
      's.worker',
      'r.worker as result_worker',
      'r.exit_code',
      'r.status as result_status',
    )) as Row;

async function until(id: string, ok: (r: Row) => boolean, ms: number): Promise<Row> {
  const deadline = Date.now() + ms;
  let r = await row(id);
  while (!ok(r) && Date.now() < deadline) {
    await new Promise((res) => setTimeout(res, 250));
    r = await row(id);
  }
  if (!ok(r))
    throw new Error(
      `submission ${id} is still ${JSON.stringify(r)}; worker output:\n${workers.map((w) => w.output()).join('\n---\n')}`,
    );
  return r;
}
const graded = (r: Row): boolean => r.result_status !== null;
const pidOf = (worker: string | null): number => Number(worker?.split(':').pop());

it('two workers share the queue, both take jobs; a failing grade is recorded once, never retried; SIGTERM finishes the grading in hand', async () => {
  workers.push(await started(spawnWorker(workerEnv)), await started(spawnWorker(workerEnv)));
  const ada = await joinAs(service, mentor.inviteCode, 'ada');
  const bob = await joinAs(service, mentor.inviteCode, 'bob');
  const ids = [await submit(ada.token, 'ada-1'), await submit(bob.token, 'bob-1')];
  const grading = await until(ids[0]!, (r) => r.status === 'grading', 120_000);
  const first = workers.find((w) => w.pid === pidOf(grading.worker))!;
  first.child.kill('SIGTERM');
  const rows = [await until(ids[0]!, graded, 300_000), await until(ids[1]!, graded, 300_000)];
  expect(await first.exited).toBe(0);
  // The grading in hand finished on the worker that got SIGTERM (unless that attempt failed for
  // infrastructure reasons or lost its lock: then the other worker graded it again).
  if (infraRetries(ids[0]!) === 0) expect(pidOf(rows[0]!.result_worker)).toBe(first.pid);
  // Both workers took jobs (each grading start is an event naming its worker).
  const takers = await service
    .db('events')
    .whereIn('submission_id', ids)
    .andWhere('type', 'submission.grading')
    .select<{ worker: string }[]>(service.db.raw("payload->>'worker' as worker"));
  expect(new Set(takers.map((t) => t.worker)).size).toBe(2);
  ids.forEach((id, i) => {
    const r = rows[i]!;
    expect([r.status, r.result_status, r.exit_code]).toEqual(['graded', 'fail', 1]);
    // Graded once: a failing grade is never retried (only an infrastructure failure, logged, would be).
    expect(r.attempts).toBe(1 + infraRetries(id));
  });
  workers.splice(workers.indexOf(first), 1);
});

it('a worker SIGKILLed mid-grade: the other takes the job over, one result is recorded, the killed grading stops', async () => {
  // Two workers: the one that will be killed and the one that takes over.
  while (workers.length < 2) workers.push(await started(spawnWorker(workerEnv)));
  const cy = await joinAs(service, mentor.inviteCode, 'cy');
  const id = await submit(cy.token, 'cy-1');
  const grading = await until(id, (r) => r.status === 'grading', 120_000);
  const victim = workers.find((w) => w.pid === pidOf(grading.worker))!;
  const orphans = await gradingChildrenOf(victim.pid);
  expect(orphans.length).toBeGreaterThan(0);
  killedPid = victim.pid;
  victim.child.kill('SIGKILL');
  await victim.exited;
  workers.splice(workers.indexOf(victim), 1);
  const done = await until(id, graded, 300_000);
  expect(pidOf(done.result_worker)).not.toBe(victim.pid);
  // Its second attempt is the takeover (logged as a lost attempt), plus any infrastructure retry.
  expect(done.attempts).toBe(1 + infraRetries(id));
  expect(done.attempts).toBeGreaterThanOrEqual(2);
  const results = await service
    .db('results')
    .where('submission_id', id)
    .count<{ n: string }[]>({ n: '*' });
  expect(Number(results[0]!.n)).toBe(1);
  // The killed worker's grading child saw its stdin close and stopped (it disposes its containers).
  const deadline = Date.now() + 60_000;
  while (stillAlive(orphans).length > 0 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 250));
  expect(stillAlive(orphans)).toEqual([]);
});

it('SIGTERM past --drain-seconds: the grading in hand is stopped and handed back, the worker exits 0, another grades it once', async () => {
  for (const w of workers.splice(0)) {
    w.child.kill('SIGTERM');
    await w.exited;
  }
  // Alone on the queue, so it takes the job; it waits 1 s for a grading in hand, no longer.
  const hasty = await started(spawnWorker(workerEnv, 1, 1));
  const fay = await joinAs(service, mentor.inviteCode, 'fay');
  const id = await submit(fay.token, 'fay-1');
  const grading = await until(id, (r) => r.status === 'grading', 120_000);
  expect(pidOf(grading.worker)).toBe(hasty.pid);
  const children = await gradingChildrenOf(hasty.pid);
  expect(children.length).toBeGreaterThan(0);
  const t0 = Date.now();
  hasty.child.kill('SIGTERM');
  expect(await hasty.exited).toBe(0);
  // 1 s of drain, then the grading child is stopped (SIGTERM, SIGKILL after 20 s) and the job handed back.
  expect(Date.now() - t0).toBeLessThan(45_000);
  expect(hasty.output()).toContain('SIGTERM: finishing the gradings in hand (up to 1 s)');
  expect(stillAlive(children)).toEqual([]);
  workers.push(await started(spawnWorker(workerEnv)));
  const done = await until(id, graded, 300_000);
  expect(pidOf(done.result_worker)).not.toBe(hasty.pid);
  expect(done.attempts).toBe(1 + infraRetries(id));
  expect(done.attempts).toBeGreaterThanOrEqual(2);
  const results = await service
    .db('results')
    .where('submission_id', id)
    .count<{ n: string }[]>({ n: '*' });
  expect(Number(results[0]!.n)).toBe(1);
});

it('Redis restarted (its jobs lost) with submissions waiting: the reconciler queues them again and they are graded', async () => {
  for (const w of workers.splice(0)) {
    w.child.kill('SIGTERM');
    expect(await w.exited).toBe(0);
  }
  const dee = await joinAs(service, mentor.inviteCode, 'dee');
  const ids = [await submit(dee.token, 'dee-1'), await submit(dee.token, 'dee-2')];
  expect(await service.queue.state(ids[0]!)).toMatch(/waiting|prioritized/);
  redis.kill('SIGKILL');
  await new Promise((r) => redis.once('exit', r));
  redis = await startRedis();
  workers.push(await started(spawnWorker(workerEnv, 2)));
  // The SIGKILLed worker's submission folder and service containers were swept by the workers that started after it.
  expect(
    readdirSync(os.tmpdir()).filter((n) => n.startsWith(`sandbox-submission-${killedPid}-`)),
  ).toEqual([]);
  const sweptBy = Date.now() + 30_000;
  while ((await countOwnedBy(killedPid)).containers > 0 && Date.now() < sweptBy)
    await new Promise((r) => setTimeout(r, 500));
  expect(await countOwnedBy(killedPid)).toEqual({ containers: 0, networks: 0, volumes: 0 });
  for (const id of ids) {
    const r = await until(id, graded, 300_000);
    expect([r.result_status, r.attempts]).toEqual(['fail', 1 + infraRetries(id)]);
  }
});

it('the checker unable to grade (exit 2) is retried with backoff, then recorded once as an error', async () => {
  // A worker machine without the course's steps: every grading exits 2 before any learner code runs.
  const broken = await started(
    spawnWorker({ ...workerEnv, SANDBOX_STEPS_DIR: '/nonexistent-steps' }),
  );
  workers.push(broken);
  for (const w of workers.filter((x) => x !== broken)) {
    w.child.kill('SIGTERM');
    await w.exited;
  }
  workers.splice(0, workers.length, broken);
  const eve = await joinAs(service, mentor.inviteCode, 'eve');
  const id = await submit(eve.token, 'eve-1');
  const r = await until(id, graded, 120_000);
  expect([r.status, r.result_status, r.exit_code, r.attempts]).toEqual(['error', 'error', 2, 3]);
  expect(
    broken
      .output()
      .split('\n')
      .filter((l) => l.includes(`submission ${id}: attempt`)),
  ).toHaveLength(2);
  const stored = await service
    .db('results')
    .where('submission_id', id)
    .first<{ error_code: string }>('error_code');
  expect(stored.error_code).toBe('CHECKER_CRASHED');
});
