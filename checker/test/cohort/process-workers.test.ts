import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chooseWorkerRuntime } from '../../src/cohort/worker/worker-runtime';
import { stopWarmPostgres } from '../../src/services/warm-postgres';
import {
  joinAs,
  mentorWithCohort,
  REDIS_URL,
  startTestService,
  type TestService,
} from './support/service';
import { spawnWorker, stopWorkers, submitTiny, type WorkerProcess } from './support/workers';

// Workers as separate processes (the built CLI) grading in the process runtime, contained as root
// (a uid of its own per run, cgroups, the network fence: `sandbox doctor`'s "Process runtime"),
// against the machine's Postgres and Redis (the service's), with the warm private Postgres and a
// redis-server per grading (what `sandbox check` uses) started by the workers in this suite's own
// cache dir. No container engine is involved. About 1-2 min under load.
jest.setTimeout(300_000);

let service: TestService;
let mentor: Awaited<ReturnType<typeof mentorWithCohort>>;
const workers: WorkerProcess[] = [];
const cache = mkdtempSync(path.join(os.tmpdir(), 'cohort-process-cache-'));
const savedCache = process.env['SANDBOX_CACHE_DIR'];
let env: Record<string, string>;

beforeAll(async () => {
  // The CI machine runs as root with cgroups and iptables: a worker there must be able to contain.
  const choice = chooseWorkerRuntime('auto');
  if (choice.runtime !== 'process')
    throw new Error(
      `the process runtime cannot contain runs here (${choice.why}): run as root with cgroups and iptables (docs/grader.md)`,
    );
  process.env['SANDBOX_CACHE_DIR'] = cache; // its own warm cluster (stopped below), never the developer's
  service = await startTestService();
  mentor = await mentorWithCohort(service);
  env = {
    DATABASE_URL: service.databaseUrl,
    REDIS_URL,
    SANDBOX_QUEUE_PREFIX: service.queuePrefix,
    SANDBOX_CACHE_DIR: cache,
  };
  delete process.env['SANDBOX_WARM_SERVICES'];
});

afterAll(async () => {
  await stopWorkers(workers);
  await service?.dispose();
  await stopWarmPostgres();
  if (savedCache === undefined) delete process.env['SANDBOX_CACHE_DIR'];
  else process.env['SANDBOX_CACHE_DIR'] = savedCache;
  rmSync(cache, { recursive: true, force: true });
});

const submit = (token: string, variant: string): Promise<string> =>
  submitTiny(service, token, variant);

interface Row {
  status: string;
  attempts: number;
  runtime: string | null;
  contained: boolean | null;
  exit_code: number | null;
  result_status: string | null;
  worker: string | null;
}

async function graded(id: string, ms: number): Promise<Row> {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = (await service
      .db('submissions as s')
      .leftJoin('results as r', 'r.submission_id', 's.id')
      .where('s.id', id)
      .first(
        's.status',
        's.attempts',
        'r.runtime',
        'r.contained',
        'r.exit_code',
        'r.status as result_status',
        'r.worker',
      )) as Row;
    if (r.result_status !== null) return r;
    if (Date.now() > deadline)
      throw new Error(
        `submission ${id} is still ${JSON.stringify(r)}; worker output:\n${workers.map((w) => w.output()).join('\n---\n')}`,
      );
    await new Promise((res) => setTimeout(res, 250));
  }
}

it('two `sandbox worker --runtime auto` processes choose the contained process runtime, share the queue, and record what ran', async () => {
  // Started together: one starts the warm Postgres, the other waits for it and uses it (one cluster).
  workers.push(
    ...(await Promise.all([spawnWorker(env, 1, 120, 'auto'), spawnWorker(env, 1, 120, 'auto')])),
  );
  for (const w of workers)
    expect(w.output()).toMatch(
      /process runtime \(contained on this machine\); services: the warm private Postgres/,
    );
  const ada = await joinAs(service, mentor.inviteCode, 'ada');
  const bob = await joinAs(service, mentor.inviteCode, 'bob');
  const ids = [await submit(ada.token, 'ada-1'), await submit(bob.token, 'bob-1')];
  const rows = [await graded(ids[0]!, 240_000), await graded(ids[1]!, 240_000)];
  for (const r of rows)
    // The tiny app has no BAD_JSON answer: a learner's failing grade, graded once, in the process runtime, contained.
    expect([r.status, r.result_status, r.exit_code, r.runtime, r.contained, r.attempts]).toEqual([
      'graded',
      'fail',
      1,
      'process',
      true,
      1,
    ]);
  // Both workers took a job: each grading names its worker.
  expect(new Set(rows.map((r) => r.worker)).size).toBe(2);
  // Each worker accounts for the time it spends outside the checker's run (what bench:cohort reads).
  for (const id of ids)
    expect(workers.map((w) => w.output()).join('\n')).toMatch(
      new RegExp(
        `submission ${id}: fail in [\\d.]+ s \\(process runtime\\); outside the grading: pickup \\d+ ms, claim \\d+ ms, unpack \\d+ ms, services \\d+ ms, child start and exit \\d+ ms, store \\d+ ms`,
      ),
    );
});

it('`--runtime process` is what a worker then uses; an unknown runtime is refused', async () => {
  const bad = await spawnWorker(env, 1, 120, 'chroot' as 'auto').then(
    () => 'started',
    (e: Error) => e.message,
  );
  expect(bad).toMatch(/argument 'chroot' is invalid[\s\S]*auto, process, container/);
  const proc = await spawnWorker(env, 1, 120, 'process');
  workers.push(proc);
  expect(proc.output()).toMatch(/process runtime \(asked for\)/);
});
