// `npm run bench:verdicts [-- --only NAME[,NAME...]] [--step SLUG] [--states]`: grades the reference
// and every broken submission of test/broken (or those named, or those of one step) twice, checks
// side by side (the default) and one after the other (--serial), and compares the verdicts check
// by check; `--states` adds the course's states 0-8, each graded up to its next step (the step a
// cohort's learner fails); writes bench/results/verdicts[-suffix].{json,md}; exit 1 on any
// difference. Too slow for CI (each case is graded twice); test/reference.test.ts covers the reference.
//
// `npm run bench:verdicts -- --repeat [N]`: grades the reference N times (default 20), one run after
// the other, each with its own draw of the run's variables (PORT, PUBLIC_URL, JWT_SECRET, backoff,
// heartbeat, lifetimes, user data); writes bench/results/repeat.{json,md}; exit 1 unless every run
// scores the maximum with the same verdict for every check. A verdict test: load does not matter.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { machineLoad, option } from './args-and-stats';
import path from 'node:path';
import type { RunResult } from '../src/results/types';
import { loadSteps } from '../src/course/paths';
import {
  BROKEN_DIR,
  REFERENCE,
  ROOT,
  brokenWorkspace,
  gradeWorkspace,
  removeWorkspace,
  stateWorkspace,
} from '../../test/support/grade-workspace';

/** The course's steps: states 0..steps-1 each have a next step to fail (the last state is the reference). */
const STEP_COUNT = loadSteps(ROOT).length;

const RESULTS = path.resolve(__dirname, '../../bench/results');

interface Case {
  name: string;
  step?: string;
  only: boolean;
  sideBySideMs: number;
  serialMs: number;
  /** `slug/check: side-by-side verdict != serial verdict`, empty when identical. */
  differences: string[];
  verdicts: string[];
}

/** Each check as `slug/name: status points` (messages carry ports and timings, so they are not compared). */
const verdicts = (r: RunResult): string[] =>
  r.status === 'error' && r.steps.length === 0
    ? [`run: error ${r.error?.code ?? ''}`]
    : r.steps.flatMap((s) => s.checks.map((c) => `${s.slug}/${c.name}: ${c.status} ${c.points}`));

async function gradeBothWays(
  name: string,
  dir: string,
  step?: string,
  only = false,
): Promise<Case> {
  const opts = { only };
  let t = performance.now();
  const sideBySide = await gradeWorkspace(dir, step, opts);
  const sideBySideMs = Math.round(performance.now() - t);
  t = performance.now();
  const serial = await gradeWorkspace(dir, step, { ...opts, serial: true });
  const serialMs = Math.round(performance.now() - t);
  const a = verdicts(sideBySide);
  const b = verdicts(serial);
  const differences = [...new Set([...a, ...b])].filter((v) => !(a.includes(v) && b.includes(v)));
  return {
    name,
    ...(step ? { step } : {}),
    only,
    sideBySideMs,
    serialMs,
    differences,
    verdicts: a,
  };
}

interface RepeatRun {
  run: number;
  ms: number;
  score: number;
  maxScore: number;
  /** Checks that did not pass, with their messages. */
  notPassing: string[];
}

/** `--repeat [N]`: the reference graded N times; identical and maximal, or exit 1. */
async function repeat(times: number): Promise<void> {
  const loadBefore = os.loadavg();
  const runs: RepeatRun[] = [];
  const seen = new Map<string, number>();
  for (let run = 1; run <= times; run += 1) {
    const t = performance.now();
    const result = await gradeWorkspace(REFERENCE);
    const ms = Math.round(performance.now() - t);
    const key = verdicts(result).join('\n');
    seen.set(key, (seen.get(key) ?? 0) + 1);
    const notPassing = result.steps.flatMap((s) =>
      s.checks
        .filter((c) => c.status !== 'pass')
        .map((c) => `${s.slug}/${c.name}: ${c.status}: ${c.message.split('\n')[0] ?? ''}`),
    );
    if (result.status === 'error' && result.steps.length === 0)
      notPassing.push(`run: error ${result.error?.code ?? ''}: ${result.error?.message ?? ''}`);
    runs.push({ run, ms, score: result.score, maxScore: result.maxScore, notPassing });
    process.stderr.write(`run ${run}/${times}: ${result.score}/${result.maxScore} in ${ms} ms\n`);
  }
  const maxScore = Math.max(...runs.map((r) => r.maxScore));
  const report = {
    date: new Date().toISOString(),
    machine: machineLoad(loadBefore),
    times,
    maxScore,
    /** Distinct verdict lists seen (1 when every run agreed check by check). */
    distinctVerdicts: seen.size,
    identical: seen.size === 1,
    maximal: runs.every((r) => r.score === r.maxScore && r.notPassing.length === 0),
    runs,
  };
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(path.join(RESULTS, 'repeat.json'), `${JSON.stringify(report, null, 2)}\n`);
  const rows = runs.map(
    (r) =>
      `| ${r.run} | ${r.score}/${r.maxScore} | ${r.ms} | ${r.notPassing.length ? r.notPassing.join('<br>') : 'all pass'} |`,
  );
  const md = `# The reference graded ${times} time${times === 1 ? '' : 's'} (${report.date})

${report.machine.cpus} cores, load average ${report.machine.loadAverageBefore.join(' / ')} before, ${report.machine.loadAverageAfter.join(' / ')} after (1/5/15 min).
Command: \`npm run bench:verdicts -- --repeat ${times}\`. Each run draws its own variables and data.
**${report.identical && report.maximal ? `All ${times} grades identical and maximal (${maxScore}/${maxScore}).` : `Not repeatable: ${report.distinctVerdicts} distinct verdict lists; maximal: ${report.maximal}.`}**

| run | score | ms | checks not passing |
|---|---|---|---|
${rows.join('\n')}
`;
  writeFileSync(path.join(RESULTS, 'repeat.md'), md);
  process.stdout.write(md);
  process.exitCode = report.identical && report.maximal ? 0 : 1;
}

async function main(): Promise<void> {
  const r = process.argv.indexOf('--repeat');
  if (r > 0) {
    const n = Number(process.argv[r + 1] ?? 20);
    return repeat(Number.isInteger(n) && n > 0 ? n : 20);
  }
  const picked = option('only')?.split(',');
  const pickedStep = option('step');
  const withStates = process.argv.includes('--states');
  const loadBefore = os.loadavg();
  const expectedOf = (name: string): { step: string; fails: 'all' | { check: string }[] } =>
    JSON.parse(readFileSync(path.join(BROKEN_DIR, name, 'expected.json'), 'utf8'));
  const names = readdirSync(BROKEN_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && (!picked || picked.includes(d.name)))
    .map((d) => d.name)
    .filter((name) => !pickedStep || expectedOf(name).step === pickedStep)
    .sort();
  const cases: Case[] = [];
  if (!picked) cases.push(await gradeBothWays('reference-app', REFERENCE));
  // The course's states, each graded up to its next step (what a cohort submits): the failing
  // step of a learner who has not done it yet.
  if (withStates)
    for (let n = 0; n < STEP_COUNT; n += 1) {
      const dir = stateWorkspace(n);
      try {
        const c = await gradeBothWays(`state ${n}`, dir, String(n + 1));
        process.stderr.write(`state ${n}: ${c.differences.length ? 'DIFFERENT' : 'same'}\n`);
        cases.push(c);
      } finally {
        removeWorkspace(dir);
      }
    }
  for (const name of names) {
    const expected = expectedOf(name);
    // As test/support/broken-catalogue.ts grades it: the step alone when every expected failure is in it.
    const only =
      expected.fails !== 'all' &&
      expected.fails.every((f) => f.check.startsWith(`${expected.step}/`));
    const dir = brokenWorkspace(name);
    try {
      const c = await gradeBothWays(name, dir, expected.step, only);
      process.stderr.write(`${name}: ${c.differences.length ? 'DIFFERENT' : 'same'}\n`);
      cases.push(c);
    } finally {
      removeWorkspace(dir);
    }
  }
  const report = {
    date: new Date().toISOString(),
    machine: machineLoad(loadBefore),
    identical: cases.every((c) => c.differences.length === 0),
    cases,
  };
  mkdirSync(RESULTS, { recursive: true });
  const suffix = [
    picked ? `-${picked.join('-')}` : '',
    pickedStep ? `-step-${pickedStep}` : '',
    withStates ? '-states' : '',
  ].join('');
  writeFileSync(
    path.join(RESULTS, `verdicts${suffix}.json`),
    `${JSON.stringify(report, null, 2)}\n`,
  );
  writeFileSync(path.join(RESULTS, `verdicts${suffix}.md`), markdown(report));
  process.stdout.write(markdown(report));
  process.exitCode = report.identical ? 0 : 1;
}

function markdown(r: {
  date: string;
  machine: { cpus: number; loadAverageBefore: number[]; loadAverageAfter: number[] };
  identical: boolean;
  cases: Case[];
}): string {
  const rows = r.cases.map(
    (c) =>
      `| ${c.name} | ${c.step ? `${c.only ? '--only ' : ''}${c.step}` : 'all'} | ${c.verdicts.length} | ${c.verdicts.filter((v) => !/: pass \d+$/.test(v)).length} | ${c.sideBySideMs} | ${c.serialMs} | ${c.differences.length ? c.differences.join('<br>') : 'identical'} |`,
  );
  return `# Verdicts side by side and serial (${r.date})

${r.machine.cpus} cores, load average ${r.machine.loadAverageBefore.join(' / ')} before, ${r.machine.loadAverageAfter.join(' / ')} after (1/5/15 min).
Command: \`npm run bench:verdicts${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\`.
Every case is graded twice, checks side by side (default) and one after the other (\`--serial\`);
a verdict is a check's status and points. **${r.identical ? 'All verdicts identical.' : 'Verdicts differ.'}**

| case | steps | checks | not passing | side by side ms | serial ms | verdicts |
|---|---|---|---|---|---|---|
${rows.join('\n')}
`;
}

void main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
