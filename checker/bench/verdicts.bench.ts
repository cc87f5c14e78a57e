// `npm run bench:verdicts [-- --only NAME]`: grades the reference and every broken submission of
// test/broken twice, checks side by side (the default) and one after the other (--serial), and
// compares the verdicts check by check; writes bench/results/verdicts.{json,md}; exit 1 on any
// difference. Too slow for CI (each case is graded twice); test/reference.test.ts covers the reference.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunResult } from '../src/results/types';
import {
  BROKEN_DIR,
  REFERENCE,
  brokenWorkspace,
  gradeWorkspace,
  removeWorkspace,
} from '../../test/support/grade-workspace';

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

async function main(): Promise<void> {
  const i = process.argv.indexOf('--only');
  const pick = i > 0 ? process.argv[i + 1] : undefined;
  const loadBefore = os.loadavg();
  const names = readdirSync(BROKEN_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && (!pick || d.name === pick))
    .map((d) => d.name)
    .sort();
  const cases: Case[] = [];
  if (!pick) cases.push(await gradeBothWays('reference-app', REFERENCE));
  for (const name of names) {
    const expected = JSON.parse(
      readFileSync(path.join(BROKEN_DIR, name, 'expected.json'), 'utf8'),
    ) as { step: string; fails: 'all' | { check: string }[] };
    // As test/broken.test.ts grades it: the step alone when every expected failure is in it.
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
    machine: {
      cpus: os.cpus().length,
      loadAverageBefore: loadBefore.map((l) => +l.toFixed(2)),
      loadAverageAfter: os.loadavg().map((l) => +l.toFixed(2)),
    },
    identical: cases.every((c) => c.differences.length === 0),
    cases,
  };
  mkdirSync(RESULTS, { recursive: true });
  const suffix = pick ? `-${pick}` : '';
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
