// `npm run bench:checker [-- --runs N --course-runs N]`: wall time of the whole course and of one step against the
// reference, and the per-run isolation overhead, with warm services; medians; writes bench/results/checker.{json,md}.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunResult } from '../src/results/types';
import { startLocalServices } from '../src/services/local-services';
import {
  findWarmPostgres,
  startWarmPostgres,
  stopWarmPostgres,
} from '../src/services/warm-postgres';
import { flag, median } from './args-and-stats';

const REPO = path.resolve(__dirname, '../..');
const RESULTS = path.join(REPO, 'bench', 'results');
const CLI = path.join(REPO, 'checker/bin/sandbox.js');
const WORKSPACE = path.join(REPO, 'reference-app');
const TARGETS = { courseMs: 10_000, stepMs: 2_000, isolationMs: 50 };

interface CheckRun {
  wallMs: number;
  status: string;
  score: string;
  timings: Record<string, number>;
}

/** One `sandbox check` through the built CLI, as a learner runs it. */
function check(args: string[]): CheckRun {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sandbox-bench-'));
  const out = path.join(dir, 'result.json');
  const started = performance.now();
  spawnSync(
    process.execPath,
    [CLI, 'check', '--workspace', WORKSPACE, '--format', 'json', '--out', out, ...args],
    { stdio: 'ignore', timeout: 600_000 },
  );
  const wallMs = Math.round(performance.now() - started);
  const r = JSON.parse(readFileSync(out, 'utf8')) as RunResult;
  rmSync(dir, { recursive: true, force: true });
  return { wallMs, status: r.status, score: `${r.score}/${r.maxScore}`, timings: r.timings ?? {} };
}

/** Per-phase medians over runs. */
function phaseMedians(runs: CheckRun[]): Record<string, number> {
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.timings)))];
  return Object.fromEntries(names.map((n) => [n, median(runs.map((r) => r.timings[n] ?? 0))]));
}

/** A run's own database (template clone), private redis-server, two fault proxies and a mail sink, on the warm Postgres. */
async function isolation(
  runs: number,
): Promise<{ setupMs: number[]; disposeMs: number[]; phases: Record<string, number> }> {
  const setupMs: number[] = [];
  const disposeMs: number[] = [];
  const phases: Record<string, number[]> = {};
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const services = await startLocalServices({
      onTiming: (p, ms) => (phases[p] ??= []).push(Math.round(ms)),
    });
    setupMs.push(Math.round(performance.now() - t0));
    const t1 = performance.now();
    await services.dispose();
    disposeMs.push(Math.round(performance.now() - t1));
  }
  return {
    setupMs,
    disposeMs,
    phases: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, median(v)])),
  };
}

async function main(): Promise<void> {
  const runs = flag('runs', 5);
  const courseRuns = flag('course-runs', runs);
  execFileSync('npm', ['run', 'build', '--workspace', 'checker'], { cwd: REPO, stdio: 'ignore' });
  const wasWarm = (await findWarmPostgres()) !== undefined;
  await startWarmPostgres();
  const loadBefore = os.loadavg();
  try {
    check(['--step', '1', '--only']); // warms the build stamp and jest's transform cache
    const iso = await isolation(Math.max(runs, 10));
    const step = Array.from({ length: runs }, () => check(['--step', '1', '--only']));
    const course = Array.from({ length: courseRuns }, () => check([]));
    const results = {
      date: new Date().toISOString(),
      machine: {
        cpus: os.cpus().length,
        loadAverageBefore: loadBefore.map((l) => +l.toFixed(2)),
        loadAverageAfter: os.loadavg().map((l) => +l.toFixed(2)),
      },
      services: 'local, warm Postgres (sandbox services up), private redis-server per run',
      targets: TARGETS,
      course: {
        runs: courseRuns,
        medianWallMs: median(course.map((r) => r.wallMs)),
        wallMs: course.map((r) => r.wallMs),
        grades: course.map((r) => `${r.status} ${r.score}`),
        phases: phaseMedians(course),
      },
      oneStep: {
        args: '--step 1 --only',
        runs,
        medianWallMs: median(step.map((r) => r.wallMs)),
        wallMs: step.map((r) => r.wallMs),
        phases: phaseMedians(step),
      },
      isolation: {
        runs: iso.setupMs.length,
        medianSetupMs: median(iso.setupMs),
        medianDisposeMs: median(iso.disposeMs),
        setupMs: iso.setupMs,
        phases: iso.phases,
      },
    };
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(path.join(RESULTS, 'checker.json'), `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(path.join(RESULTS, 'checker.md'), markdown(results));
    process.stdout.write(markdown(results));
  } finally {
    if (!wasWarm) await stopWarmPostgres();
  }
}

function markdown(r: {
  date: string;
  machine: { cpus: number; loadAverageBefore: number[]; loadAverageAfter: number[] };
  course: { runs: number; medianWallMs: number; grades: string[]; phases: Record<string, number> };
  oneStep: { runs: number; medianWallMs: number; phases: Record<string, number> };
  isolation: {
    runs: number;
    medianSetupMs: number;
    medianDisposeMs: number;
    phases: Record<string, number>;
  };
}): string {
  const verdict = (ms: number, target: number): string => (ms <= target ? 'met' : 'missed');
  const phases = (p: Record<string, number>): string =>
    Object.entries(p)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  return `# Checker benchmark (${r.date})

${r.machine.cpus} cores, load average ${r.machine.loadAverageBefore.join(' / ')} before, ${r.machine.loadAverageAfter.join(' / ')} after (1/5/15 min). Warm Postgres; medians.

| what | median | target | |
|---|---|---|---|
| whole course against the reference (${r.course.runs} runs) | ${r.course.medianWallMs} ms | ${TARGETS.courseMs} ms | ${verdict(r.course.medianWallMs, TARGETS.courseMs)} |
| one step re-checked (\`--step 1 --only\`, ${r.oneStep.runs} runs) | ${r.oneStep.medianWallMs} ms | ${TARGETS.stepMs} ms | ${verdict(r.oneStep.medianWallMs, TARGETS.stepMs)} |
| per-run isolation: database clone + redis-server + proxies + mail sink (${r.isolation.runs} runs) | ${r.isolation.medianSetupMs} ms (dispose ${r.isolation.medianDisposeMs} ms) | ${TARGETS.isolationMs} ms | ${verdict(r.isolation.medianSetupMs, TARGETS.isolationMs)} |

Grades of the course runs: ${r.course.grades.join('; ')}.

Where the time goes (median ms per phase):
- course: ${phases(r.course.phases)}
- one step: ${phases(r.oneStep.phases)}
- isolation: ${phases(r.isolation.phases)}
`;
}

void main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
