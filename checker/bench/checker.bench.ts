// `npm run bench:checker [-- --runs N --course-runs N]`: wall time of the whole course, of one step unchanged and
// after a one-line edit (build included), of `sandbox next`, and the per-run isolation overhead, with warm
// services; medians, with the load average; writes bench/results/checker.{json,md}.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunResult } from '../src/results/types';
import { startLocalServices } from '../src/services/local-services';
import {
  findWarmPostgres,
  startWarmPostgres,
  stopWarmPostgres,
} from '../src/services/warm-postgres';
import { flag, machineLoad, median } from './args-and-stats';

const REPO = path.resolve(__dirname, '../..');
const RESULTS = path.join(REPO, 'bench', 'results');
const CLI = path.join(REPO, 'checker/bin/sandbox.js');
const WORKSPACE = path.join(REPO, 'reference-app');
/** issue 13's targets (quiet 2-core machine, warm services). */
const TARGETS = {
  courseMs: 8_000,
  editedStepMs: 2_500,
  stepMs: 1_500,
  isolationMs: 50,
  nextMs: 300,
};

interface CheckRun {
  wallMs: number;
  status: string;
  score: string;
  /** Why the checker could not grade (status error), so a bench figure from a broken run says so. */
  error?: string;
  timings: Record<string, number>;
}

/** One `sandbox check` through the built CLI, as a learner runs it. */
function check(args: string[], workspace = WORKSPACE, learner?: Learner): CheckRun {
  const dir = learner?.outDir ?? mkdtempSync(path.join(os.tmpdir(), 'sandbox-bench-'));
  const out = path.join(dir, 'result.json');
  const cli = [CLI, 'check', '--workspace', workspace, '--format', 'json', '--out', out, ...args];
  const started = performance.now();
  if (learner) spawnSync(learner.command[0]!, [...learner.command.slice(1), ...cli], SPAWN);
  else spawnSync(process.execPath, cli, SPAWN);
  const wallMs = Math.round(performance.now() - started);
  const r = JSON.parse(readFileSync(out, 'utf8')) as RunResult;
  if (!learner) rmSync(dir, { recursive: true, force: true });
  return {
    wallMs,
    status: r.status,
    score: `${r.score}/${r.maxScore}`,
    ...(r.error ? { error: `${r.error.code}: ${r.error.message}` } : {}),
    timings: r.timings ?? {},
  };
}

const SPAWN = { stdio: 'ignore', timeout: 600_000 } as const;

/** How the learner's own checks are run: as the workspace's owner, who is never root on a learner's machine. */
interface Learner {
  dir: string;
  outDir: string;
  command: string[];
  /** Why it runs as it does. */
  as: string;
  remove(): void;
}

/**
 * A learner's workspace after the last step (starter + every reference patch, the starter's own
 * build), its node_modules from the repository's install, as the walkthrough sets one up.
 */
function learnerWorkspace(): Learner {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'sandbox-bench-learner-'));
  const dir = path.join(tmp, 'my-backend');
  const home = path.join(tmp, 'home');
  mkdirSync(home);
  execFileSync(
    process.execPath,
    [
      path.join(REPO, 'node_modules/tsx/dist/cli.mjs'),
      'checker/src/course/maintain.ts',
      'state',
      '9',
      dir,
    ],
    { cwd: REPO, stdio: 'ignore' },
  );
  symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  const remove = (): void => rmSync(tmp, { recursive: true, force: true });
  if (process.getuid?.() !== 0)
    return { dir, outDir: home, command: [process.execPath], as: 'the bench user', remove };
  // As root the checker contains the run (a copy, a uid of its own, a fresh build): that is the
  // grading path. A learner owns the workspace and is not root: run the checks as `nobody`.
  execFileSync('chown', ['-R', 'nobody:nogroup', tmp]);
  const command = [
    'setpriv',
    '--reuid=nobody',
    '--regid=nogroup',
    '--clear-groups',
    'env',
    '-u',
    'SANDBOX_CACHE_DIR', // the bench user's own cache: the learner keeps theirs under HOME
    `HOME=${home}`,
    `XDG_CACHE_HOME=${path.join(home, '.cache')}`,
    process.execPath,
  ];
  // Its own warm Postgres, as the bench user has one: the learner keeps one warm too.
  const services = (verb: string): void =>
    void spawnSync(command[0]!, [...command.slice(1), CLI, 'services', verb], SPAWN);
  services('up');
  return {
    dir,
    outDir: home,
    command,
    as: "`nobody`, owner of the workspace (uncontained, as on a learner's machine)",
    remove: () => {
      services('down');
      remove();
    },
  };
}

/**
 * `--step 1 --only` right after a one-line edit of the workspace's source: the build and the type
 * check (reported beside the grade, which waits for it) are part of it; `extra` adds flags.
 */
function checkAfterEdit(learner: Learner, n: number, extra: string[] = []): CheckRun {
  const file = path.join(learner.dir, 'src', 'server.ts');
  appendFileSync(file, `// edit ${n}${extra.length ? ' (extra flags)' : ''}\n`);
  return check(['--step', '1', '--only', ...extra], learner.dir, learner);
}

/** Wall time of `sandbox next`, and of a bare `node -e 0` beside it (what no CLI can go below). */
function commandWallMs(args: string[]): number {
  const started = performance.now();
  spawnSync(process.execPath, args, { stdio: 'ignore', timeout: 60_000 });
  return Math.round(performance.now() - started);
}

/** A run's grade as the results show it: status and score, and why it could not grade. */
const grade = (r: CheckRun): string => `${r.status} ${r.score}${r.error ? ` (${r.error})` : ''}`;

/** Per-phase medians over runs. */
function phaseMedians(runs: CheckRun[]): Record<string, number> {
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.timings)))];
  return Object.fromEntries(names.map((n) => [n, median(runs.map((r) => r.timings[n] ?? 0))]));
}

/**
 * A run's own database and role, its own redis-server (both made ahead by the warm cluster: a run
 * takes one of each), two fault proxies and a mail sink; runs back to back, so each dispose also
 * waits for the spares its run started (the next run's).
 */
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
    const learner = learnerWorkspace();
    const edited: CheckRun[] = [];
    // Side by side: the same edits checked without the type check show what it adds.
    const editedUntyped: CheckRun[] = [];
    try {
      check(['--step', '1', '--only'], learner.dir, learner); // the first, full build
      for (let i = 0; i < runs; i++) {
        edited.push(checkAfterEdit(learner, i));
        editedUntyped.push(checkAfterEdit(learner, i, ['--no-type-check']));
      }
    } finally {
      learner.remove();
    }
    const nextRuns = Math.max(runs, 10);
    const next = Array.from({ length: nextRuns }, () =>
      commandWallMs([CLI, 'next', '--workspace', WORKSPACE]),
    );
    const bareNode = Array.from({ length: nextRuns }, () => commandWallMs(['-e', '0']));
    const course = Array.from({ length: courseRuns }, () => check([]));
    const results = {
      date: new Date().toISOString(),
      machine: machineLoad(loadBefore),
      services:
        'local, warm Postgres (sandbox services up) with run databases and redis-servers made ahead, one of each per run',
      targets: TARGETS,
      course: {
        runs: courseRuns,
        medianWallMs: median(course.map((r) => r.wallMs)),
        wallMs: course.map((r) => r.wallMs),
        grades: course.map(grade),
        phases: phaseMedians(course),
      },
      editedStep: {
        args: "--step 1 --only after a one-line edit of src/server.ts (the starter's build)",
        runAs: learner.as,
        runs,
        medianWallMs: median(edited.map((r) => r.wallMs)),
        wallMs: edited.map((r) => r.wallMs),
        grades: edited.map(grade),
        phases: phaseMedians(edited),
        withoutTypeCheck: {
          medianWallMs: median(editedUntyped.map((r) => r.wallMs)),
          wallMs: editedUntyped.map((r) => r.wallMs),
          phases: phaseMedians(editedUntyped),
        },
      },
      next: {
        runs: nextRuns,
        medianWallMs: median(next),
        wallMs: next,
        bareNodeMedianWallMs: median(bareNode),
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
  editedStep: {
    runAs: string;
    runs: number;
    medianWallMs: number;
    grades: string[];
    phases: Record<string, number>;
    withoutTypeCheck: { medianWallMs: number; phases: Record<string, number> };
  };
  next: { runs: number; medianWallMs: number; bareNodeMedianWallMs: number };
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
| one step after a one-line edit, build included (learner workspace run as ${r.editedStep.runAs}, \`--step 1 --only\`, ${r.editedStep.runs} runs) | ${r.editedStep.medianWallMs} ms | ${TARGETS.editedStepMs} ms | ${verdict(r.editedStep.medianWallMs, TARGETS.editedStepMs)} |
| the same, \`--no-type-check\` (interleaved with the runs above) | ${r.editedStep.withoutTypeCheck.medianWallMs} ms | | |
| one step re-checked, nothing changed (\`--step 1 --only\`, ${r.oneStep.runs} runs) | ${r.oneStep.medianWallMs} ms | ${TARGETS.stepMs} ms | ${verdict(r.oneStep.medianWallMs, TARGETS.stepMs)} |
| \`sandbox next\` (${r.next.runs} runs; a bare \`node -e 0\` took ${r.next.bareNodeMedianWallMs} ms beside it) | ${r.next.medianWallMs} ms | ${TARGETS.nextMs} ms | ${verdict(r.next.medianWallMs, TARGETS.nextMs)} |
| per-run isolation: own database and role + own redis-server (made ahead) + proxies + mail sink (${r.isolation.runs} runs back to back) | ${r.isolation.medianSetupMs} ms (dispose ${r.isolation.medianDisposeMs} ms, making the next run's spares included) | ${TARGETS.isolationMs} ms | ${verdict(r.isolation.medianSetupMs, TARGETS.isolationMs)} |

Grades of the course runs: ${r.course.grades.join('; ')}. After an edit: ${r.editedStep.grades.join('; ')}.

Where the time goes (median ms per phase):
- course: ${phases(r.course.phases)}
- one step after an edit: ${phases(r.editedStep.phases)}
- the same, \`--no-type-check\`: ${phases(r.editedStep.withoutTypeCheck.phases)}
- one step: ${phases(r.oneStep.phases)}
- isolation: ${phases(r.isolation.phases)}
`;
}

void main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
