// `npm run bench:cohort [-- --submissions 40 --runtime auto|process|container --concurrency 1 --timeout-minutes 40]`: submissions
// of the course's states 0..9 (mixed, each from its own learner, graded up to the state's next step, as `sandbox
// submit` does) through a real cohort service on the machine's Postgres and Redis, graded by `sandbox worker`
// processes in the runtime they choose (auto: the process runtime where it is contained, as root here, else
// containers): once with two workers, then with one (this order gives the second phase the warmer caches, so the
// speed-up is if anything understated). Each state carries the package-lock.json a learner's npm install writes,
// and each state's dependencies are installed once before either phase (a cohort's first submissions pay that).
// Throughput, speed-up, submit-to-result latency p50/p95, and the overhead per submission outside the checker's
// own run, broken down: upload (HTTP, archive stored, job queued), queue pickup (an idle worker taking the job),
// the worker's claim, unpack, services, the grading child's start and exit, and storing the result.
// Writes bench/results/cohort.{json,md}. Needs `npm run build` (workers run the built CLI); the container
// runtime needs the container engine and images.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import pg from 'pg';
import { QUEUE_NAME, redisConnection } from '../src/cohort/queue/grading-queue';
import { DEFAULT_LIMITS } from '../src/cohort/archive/limits';
import { packWorkspace } from '../src/cohort/archive/pack';
import { startCohortService, type RunningService } from '../src/cohort/server/start';
import { createMentor } from '../src/cohort/store/mentors.repository';
import { createCohort } from '../src/cohort/store/cohorts.repository';
import { buildState } from '../src/course/references';
import { chooseWorkerRuntime, type WorkerRuntimeChoice } from '../src/cohort/worker/worker-runtime';
import { flag, machineLoad, option } from './args-and-stats';

const REPO = path.resolve(__dirname, '../..');
const RESULTS = path.join(REPO, 'bench', 'results');
const CLI = path.join(REPO, 'checker', 'bin', 'sandbox.js');
const ADMIN_URL =
  process.env['SANDBOX_BENCH_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env['SANDBOX_BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const TARGETS = { speedUp: 1.6, twoWorkersMs: 5 * 60_000, overheadMs: 50 };

/** `--runtime auto|process|container`: passed to the workers. */
function runtimeFlag(): WorkerRuntimeChoice {
  const value = option('runtime') ?? 'auto';
  if (value !== 'auto' && value !== 'process' && value !== 'container')
    throw new Error(`--runtime ${value}: auto, process or container`);
  return value;
}

/** The overhead's parts, p50 each (ms): what a submission spends outside the checker's own run. */
interface Overhead {
  upload: number;
  /** The upload's parts on the service (its Server-Timing): auth, body, check, store, queue. */
  uploadOnService: Record<string, number>;
  pickup: number;
  claim: number;
  unpack: number;
  services: number;
  childStart: number;
  store: number;
  /** The sum of the parts above but the grading child's start (the queue and storage overhead proper). */
  queueAndStorage: number;
  total: number;
}

interface Phase {
  workers: number;
  submissions: number;
  wallMs: number;
  throughputPerMin: number;
  latencyP50Ms: number;
  latencyP95Ms: number;
  /** The runtimes the results say were used, with counts. */
  runtimes: Record<string, number>;
  overheadP50Ms: Overhead;
  statuses: Record<string, number>;
  attempts: number;
  /** Attempts past the first: infrastructure failures retried, or jobs whose lock expired under load. */
  retries: number;
  /** CPU time of the whole machine over the phase, per submission (other work on the machine included). */
  machineCpuSecondsPerSubmission: number;
  load1: number[];
}

/** CPU-seconds the whole machine has spent (all cores; /proc/stat, USER_HZ = 100). */
function machineCpuSeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1);
  // user nice system idle iowait irq softirq steal: everything but idle and iowait.
  const busy = fields.slice(0, 8).map(Number);
  return (busy[0]! + busy[1]! + busy[2]! + busy[5]! + busy[6]! + busy[7]!) / 100;
}

const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? 0);
};

async function database(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `cohort_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

const running = new Set<ChildProcess>();
/** Ctrl-C: the workers are SIGKILLed (their gradings stop with them); the phase then fails and main cleans up. */
function stopAllWorkers(): void {
  for (const w of running) w.kill('SIGKILL');
}

interface WorkerLog {
  child: ChildProcess;
  output(): string;
}

function startWorker(
  env: Record<string, string>,
  runtime: string,
  concurrency: number,
): Promise<WorkerLog> {
  const args = [CLI, 'worker', '--runtime', runtime, '--concurrency', String(concurrency)];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stderr!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('takes jobs from')) resolve({ child, output: () => out });
    });
    running.add(child);
    child.once('exit', () => {
      running.delete(child);
      reject(new Error(`worker exited: ${out}`));
    });
  });
}

/** The bench's own options, as given (`--` first when there are any). */
function commandArgs(count: number, runtime: string, concurrency: number): string[] {
  const given = [
    ...(count !== 40 ? ['--submissions', String(count)] : []),
    ...(runtime !== 'auto' ? ['--runtime', runtime] : []),
    ...(concurrency !== 1 ? ['--concurrency', String(concurrency)] : []),
  ];
  return given.length ? ['--', ...given] : [];
}

/**
 * The package-lock.json a learner's `npm install` leaves in the workspace (not ignored, so
 * `sandbox submit` packs it): what lets a worker reuse an installed tree (npm ci) instead of
 * resolving every package again.
 */
function writeLock(dir: string): void {
  const r = spawnSync(
    'npm',
    ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'],
    { cwd: dir, encoding: 'utf8', timeout: 5 * 60_000 },
  );
  if (r.status !== 0) throw new Error(`npm install --package-lock-only in ${dir}: ${r.stderr}`);
}

async function phase(
  workers: number,
  count: number,
  states: string[],
  service: RunningService,
  env: Record<string, string>,
  mentorId: string,
  timeoutMs: number,
  runtime: string,
  concurrency: number,
): Promise<Phase> {
  const cohort = await createCohort(service.db, `bench ${workers} worker(s)`, mentorId);
  const logs = await Promise.all(
    Array.from({ length: workers }, () => startWorker(env, runtime, concurrency)),
  );
  const procs = logs.map((l) => l.child);
  const load1: number[] = [];
  const loadTimer = setInterval(() => load1.push(os.loadavg()[0]!), 10_000);
  const ids: string[] = [];
  const uploads: number[] = [];
  const serverTimings: Record<string, number[]> = {};
  const cpuBefore = machineCpuSeconds();
  const started = performance.now();
  try {
    for (let i = 0; i < count; i++) {
      const state = i % states.length;
      const join = await fetch(`${service.url}/api/join`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code: cohort.inviteCode, name: `learner-${i}` }),
      });
      const { token } = (await join.json()) as { token: string };
      // A file unique to this phase: no image built in the other phase is reused as is.
      const dir = states[state]!;
      writeFileSync(path.join(dir, 'BENCH_PHASE'), `${workers}-${i}\n`);
      const packed = await packWorkspace(dir, DEFAULT_LIMITS);
      const t0 = performance.now();
      const r = await fetch(`${service.url}/api/submissions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/gzip',
          'x-sandbox-sha256': createHash('sha256').update(packed.archive).digest('hex'),
          'x-sandbox-step': String(Math.min(state + 1, 9)),
        },
        body: packed.archive,
      });
      uploads.push(performance.now() - t0);
      for (const entry of (r.headers.get('server-timing') ?? '').split(',')) {
        const m = /^\s*(\w+);dur=([\d.]+)/.exec(entry);
        if (m) (serverTimings[m[1]!] ??= []).push(Number(m[2]));
      }
      if (r.status !== 202)
        throw new Error(`submission ${i} answered ${r.status}: ${await r.text()}`);
      ids.push(((await r.json()) as { submission: { id: string } }).submission.id);
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const done = await service
        .db('results')
        .whereIn('submission_id', ids)
        .count<{ n: string }[]>({ n: '*' });
      const n = Number(done[0]!.n);
      process.stderr.write(
        `\r${workers} worker(s): ${n}/${count} graded, ${Math.round((performance.now() - started) / 1000)} s   `,
      );
      if (n === count) break;
      if (Date.now() > deadline)
        throw new Error(`${count - n} submissions not graded within ${timeoutMs / 60_000} min`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    process.stderr.write('\n');
  } finally {
    clearInterval(loadTimer);
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(
      procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)))),
    );
  }
  const wallMs = performance.now() - started;
  const cpuSeconds = machineCpuSeconds() - cpuBefore;
  const rows = (await service
    .db('submissions as s')
    .join('results as r', 'r.submission_id', 's.id')
    .whereIn('s.id', ids)
    .select(
      's.id',
      's.created_at',
      's.started_at',
      's.finished_at',
      's.attempts',
      'r.runtime',
      'r.status',
    )) as {
    id: string;
    created_at: Date;
    started_at: Date;
    finished_at: Date;
    attempts: number;
    runtime: string;
    status: string;
  }[];
  // Submit to result stored (finished_at: after the result's rows are written).
  const latency = rows.map((r) => r.finished_at.getTime() - r.created_at.getTime());
  // The workers' own account of each grading (worker.ts logs one line per stored result; '?' is
  // a part it could not measure: a retried job's pickup, a child that wrote no timings).
  const keys = ['pickup', 'claim', 'unpack', 'services', 'childStart', 'store'] as const;
  const parts = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<
    (typeof keys)[number],
    number[]
  >;
  const line =
    /pickup (\d+|\?) ms, claim (\d+|\?) ms, unpack (\d+|\?) ms, services (\d+|\?) ms, child start and exit (\d+|\?) ms, store (\d+|\?) ms/;
  for (const l of logs.flatMap((w) => w.output().split('\n'))) {
    const m = line.exec(l);
    if (!m) continue;
    keys.forEach((k, i) => {
      if (m[i + 1] !== '?') parts[k].push(Number(m[i + 1]));
    });
  }
  const p50 = (xs: number[]): number => percentile(xs, 50);
  const overhead = {
    upload: p50(uploads),
    uploadOnService: Object.fromEntries(
      Object.entries(serverTimings).map(([k, xs]) => [k, p50(xs)]),
    ),
    ...(Object.fromEntries(keys.map((k) => [k, p50(parts[k])])) as Record<
      (typeof keys)[number],
      number
    >),
  };
  const queueAndStorage =
    overhead.upload +
    overhead.pickup +
    overhead.claim +
    overhead.unpack +
    overhead.services +
    overhead.store;
  const statuses: Record<string, number> = {};
  const runtimes: Record<string, number> = {};
  for (const r of rows) {
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    runtimes[r.runtime] = (runtimes[r.runtime] ?? 0) + 1;
  }
  return {
    workers,
    submissions: count,
    wallMs: Math.round(wallMs),
    throughputPerMin: Math.round((count / (wallMs / 60_000)) * 10) / 10,
    latencyP50Ms: percentile(latency, 50),
    latencyP95Ms: percentile(latency, 95),
    runtimes,
    overheadP50Ms: { ...overhead, queueAndStorage, total: queueAndStorage + overhead.childStart },
    statuses,
    attempts: rows.reduce((a, r) => a + r.attempts, 0),
    retries: rows.reduce((a, r) => a + r.attempts, 0) - rows.length,
    machineCpuSecondsPerSubmission: Math.round((cpuSeconds / count) * 10) / 10,
    load1,
  };
}

/** The bench's keys in the shared Redis. */
async function obliterate(prefix: string): Promise<void> {
  const queue = new Queue(QUEUE_NAME, { connection: redisConnection(REDIS_URL, false), prefix });
  await Promise.race([
    queue.waitUntilReady().then(() => queue.obliterate({ force: true })),
    new Promise((r) => setTimeout(r, 5000)),
  ]).catch(() => undefined);
  await queue.close();
}

async function main(): Promise<void> {
  const count = flag('submissions', 40);
  const requested = runtimeFlag();
  const timeoutMs = flag('timeout-minutes', 40) * 60_000;
  // Gradings each worker runs at once (`sandbox worker --concurrency`): one grading's waits can
  // overlap another's on the same worker.
  const concurrency = flag('concurrency', 1);
  const work = mkdtempSync(path.join(os.tmpdir(), 'cohort-bench-'));
  const db = await database();
  const prefix = `cohort-bench-${randomBytes(3).toString('hex')}`;
  let interrupted = false;
  const onSigint = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write(
      '\nInterrupted: stopping the workers, dropping the bench database (Ctrl-C again to quit at once)\n',
    );
    stopAllWorkers();
  };
  process.on('SIGINT', onSigint);
  const service = await startCohortService({
    databaseUrl: db.url,
    redisUrl: REDIS_URL,
    port: 0,
    host: '127.0.0.1',
    queuePrefix: prefix,
    log: () => undefined,
  });
  try {
    process.stderr.write(`Writing the course states and their package-lock.json...\n`);
    const states = Array.from({ length: 10 }, (_, n) => {
      const dir = path.join(work, `state-${n}`);
      buildState(dir, n);
      writeLock(dir);
      return dir;
    });
    const mentor = await createMentor(service.db, {
      email: 'bench@example.com',
      name: 'Bench',
      password: 'bench-password-long',
    });
    const env = { DATABASE_URL: db.url, REDIS_URL, SANDBOX_QUEUE_PREFIX: prefix };
    // What the workers will choose (they decide the same way on this machine).
    const runtime = chooseWorkerRuntime(requested).runtime;
    // The dependencies of every state (npm install from the registry, minutes: the contained
    // dependency cache, or the dependency image) are installed before the clock starts, so neither
    // phase pays for them and the phases compare grading alone: once for each distinct
    // package.json and lock (the states share the starter's today).
    const firstWithLock = new Map<string, number>();
    states.forEach((dir, n) => {
      const key = ['package.json', 'package-lock.json']
        .map((f) => readFileSync(path.join(dir, f), 'utf8'))
        .join('\0');
      if (!firstWithLock.has(key)) firstWithLock.set(key, n);
    });
    for (const n of firstWithLock.values()) {
      process.stderr.write(`Warming up: state ${n}'s dependencies (${runtime} runtime)...\n`);
      const warmUp = spawnSync(
        process.execPath,
        [
          CLI,
          'grade',
          states[n]!,
          '--step',
          '1',
          '--runtime',
          runtime,
          '--out',
          path.join(work, 'warm-up'),
        ],
        { stdio: ['ignore', 'ignore', 'inherit'], timeout: 15 * 60_000 },
      );
      if (warmUp.status !== 0 && warmUp.status !== 1)
        throw new Error(
          `the warm-up grading of state ${n} exited ${warmUp.status ?? warmUp.signal}`,
        );
    }
    const loadBefore = os.loadavg();
    const args = [states, service, env, mentor.id, timeoutMs, requested, concurrency] as const;
    const two = await phase(2, count, ...args);
    const one = await phase(1, count, ...args);
    const speedUp = Math.round((one.wallMs / two.wallMs) * 100) / 100;
    const report = {
      at: new Date().toISOString(),
      command: ['npm run bench:cohort', ...commandArgs(count, requested, concurrency)].join(' '),
      runtime,
      ...machineLoad(loadBefore),
      submissions: count,
      concurrency,
      speedUp,
      phases: [one, two],
      targets: TARGETS,
    };
    mkdirSync(RESULTS, { recursive: true });
    const name = concurrency === 1 ? 'cohort' : `cohort-concurrency-${concurrency}`;
    writeFileSync(path.join(RESULTS, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
    const range = (xs: number[]): string =>
      xs.length ? `${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)}` : '-';
    const counts = (o: Record<string, number>): string =>
      Object.entries(o)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ');
    const line = (p: Phase): string =>
      `| ${p.workers} | ${(p.wallMs / 1000).toFixed(0)} s | ${p.throughputPerMin}/min | ${(p.latencyP50Ms / 1000).toFixed(1)} s | ${(p.latencyP95Ms / 1000).toFixed(1)} s | ${counts(p.statuses)} | ${counts(p.runtimes)} | ${p.attempts} (${p.retries} retried) | ${p.machineCpuSecondsPerSubmission} | ${range(p.load1)} |`;
    const parts = (p: Phase): string => {
      const o = p.overheadP50Ms;
      const onService = Object.entries(o.uploadOnService)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      return `| ${p.workers} | ${o.upload} (${onService}) | ${o.pickup} | ${o.claim} | ${o.unpack} | ${o.services} | ${o.store} | **${o.queueAndStorage}** | ${o.childStart} | ${o.total} |`;
    };
    const md = [
      '# Cohort grading benchmark',
      '',
      `\`${report.command}\`, ${report.at}, ${report.cpus} cores, load average (1/5/15 min) ${report.loadAverageBefore.join(' / ')} before the phases and ${report.loadAverageAfter.join(' / ')} after. ${count} submissions of the course states 0-9 (state N graded up to step N+1), each from its own learner with a file of its own (so no build is reused, as in a real cohort) and the package-lock.json its npm install wrote (each state's dependencies installed once before the phases), through \`sandbox serve\` (machine Postgres and Redis) and \`sandbox worker\` processes (\`--runtime ${requested}\`: the ${runtime} runtime; each worker grades ${concurrency} at once). Two workers ran first, so one worker had the warmer caches. Machine CPU-s counts everything the machine ran during the phase (other work included): on a quiet machine, what one grading costs.`,
      '',
      '| workers | all graded in | throughput | latency p50 | latency p95 | results | runtime | attempts | machine CPU-s per submission | load (1 min, every 10 s) |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      line(one),
      line(two),
      '',
      "Overhead per submission, p50 of each part in ms: upload (the HTTP request as the client times it; in brackets its parts on the service, from its Server-Timing: token, body read, sha256 and archive check, stored in Postgres, queued), queue pickup (from the job queued, or its worker free, to the worker taking it), the worker's claim, unpack, services, storing the result (worker.ts logs these per grading); queue and storage is their sum. Apart: the grading child's start and exit, outside the checker's own run (the worker starts a child per slot ahead, so this is the request reaching it and the result written).",
      '',
      '| workers | upload | pickup | claim | unpack | services | store | queue and storage | child start and exit | all |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      parts(one),
      parts(two),
      '',
      `Speed-up with two workers: **${speedUp}x** (target ${TARGETS.speedUp}x). Two workers: ${(two.wallMs / 60_000).toFixed(1)} min for ${count} (target ${TARGETS.twoWorkersMs / 60_000} min for 40). Queue and storage overhead per submission: ${two.overheadP50Ms.queueAndStorage} ms and ${one.overheadP50Ms.queueAndStorage} ms (target ${TARGETS.overheadMs} ms).`,
      '',
    ].join('\n');
    writeFileSync(path.join(RESULTS, `${name}.md`), md);
    process.stdout.write(md);
  } finally {
    process.off('SIGINT', onSigint);
    await service.stop();
    await obliterate(prefix);
    await db.drop();
    rmSync(work, { recursive: true, force: true });
  }
}

void main().catch((e: unknown) => {
  process.stderr.write(
    `bench:cohort failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exitCode = 1;
});
