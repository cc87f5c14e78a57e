import type { Db } from '../store/db';
import {
  firstPasses,
  latestCells,
  latestSubmissions,
  learnerRows,
  repeatedFailures,
  type LatestSubmission,
  type RepeatedFailure,
} from '../store/dashboard.repository';
import type { GridRow } from '../store/grid.repository';
import type { CourseStep } from '../server/deps';

export type GridSort = 'name' | 'progress' | 'activity';

/** What the grid page was asked for (its query string), validated with defaults. */
export interface GridQuery {
  sort: GridSort;
  stuckOnly: boolean;
  /** Stuck: the same check failing in each of the last N graded attempts... */
  attempts: number;
  /** ...or no newly passed step for D days. */
  days: number;
}

export interface LearnerLine extends GridRow {
  passed: number;
  totalScore: number;
  lastActivityAt: string;
  latest: LatestSubmission | undefined;
  /** Why the learner counts as stuck (empty: not stuck). */
  stuck: string[];
}

export interface GridModel {
  steps: CourseStep[];
  lines: LearnerLine[];
  /** All learners, before the stuck filter. */
  total: number;
  /** Per step slug: learners who passed it, and learners for whom it is the next step to pass. */
  perStep: Record<string, { passed: number; current: number }>;
}

const clampInt = (value: unknown, fallback: number, min: number, max: number): number => {
  const n = typeof value === 'string' && /^\d{1,4}$/.test(value) ? Number(value) : fallback;
  return Math.min(max, Math.max(min, n));
};

export function parseGridQuery(query: Record<string, unknown>): GridQuery {
  const sort = query['sort'];
  return {
    sort: sort === 'progress' || sort === 'activity' ? sort : 'name',
    stuckOnly: query['stuck'] === '1' || query['stuck'] === 'on',
    attempts: clampInt(query['attempts'], 3, 2, 50),
    days: clampInt(query['days'], 3, 1, 365),
  };
}

export async function loadGrid(
  db: Db,
  cohortId: string,
  steps: CourseStep[],
  query: GridQuery,
  now = Date.now(),
  /** Only these learners' rows (a live update); the per-step counts then cover only them. */
  only?: string[],
): Promise<GridModel> {
  const [rows, latest, repeated, passes] = await Promise.all([
    gridRows(db, cohortId, steps, only),
    latestSubmissions(db, cohortId, only),
    repeatedFailures(db, cohortId, query.attempts, only),
    firstPasses(db, cohortId, only),
  ]);
  const repeatedBy = groupBy(repeated, (r) => r.learnerId);
  const progressAt = new Map<string, string>();
  for (const p of passes)
    if ((progressAt.get(p.learnerId) ?? '') < p.at) progressAt.set(p.learnerId, p.at);

  const perStep: GridModel['perStep'] = Object.fromEntries(
    steps.map((s) => [s.slug, { passed: 0, current: 0 }]),
  );
  const lines: LearnerLine[] = rows.map((row) => {
    const cells = steps.map((s) => row.cells[s.slug]);
    const passed = cells.filter((c) => c?.status === 'pass').length;
    const totalScore = cells.reduce((sum, c) => sum + (c?.score ?? 0), 0);
    for (const s of steps) if (row.cells[s.slug]?.status === 'pass') perStep[s.slug]!.passed++;
    const next = steps.find((s) => row.cells[s.slug]?.status !== 'pass');
    if (next) perStep[next.slug]!.current++;
    const stuck = stuckReasons(
      repeatedBy.get(row.learnerId) ?? [],
      next ? (progressAt.get(row.learnerId) ?? row.joinedAt) : undefined,
      query,
      now,
    );
    return {
      ...row,
      passed,
      totalScore,
      lastActivityAt: row.lastSubmissionAt ?? row.joinedAt,
      latest: latest.get(row.learnerId),
      stuck,
    };
  });
  const shown = query.stuckOnly ? lines.filter((l) => l.stuck.length > 0) : lines;
  return { steps, lines: sortLines(shown, query.sort), total: lines.length, perStep };
}

function stuckReasons(
  repeated: RepeatedFailure[],
  progressAt: string | undefined,
  query: GridQuery,
  now: number,
): string[] {
  const reasons = repeated.map(
    (r) => `"${r.check}" (${r.step}) failed in each of the last ${r.attempts} attempts`,
  );
  if (progressAt !== undefined) {
    const days = (now - Date.parse(progressAt)) / 86_400_000;
    if (days >= query.days) reasons.push(`no new step passed for ${Math.floor(days)} days`);
  }
  return reasons;
}

function sortLines(lines: LearnerLine[], sort: GridSort): LearnerLine[] {
  const byName = (a: LearnerLine, b: LearnerLine): number => a.name.localeCompare(b.name);
  const sorted = [...lines];
  if (sort === 'progress')
    sorted.sort((a, b) => b.passed - a.passed || b.totalScore - a.totalScore || byName(a, b));
  else if (sort === 'activity')
    sorted.sort((a, b) => b.lastActivityAt.localeCompare(a.lastActivityAt) || byName(a, b));
  else sorted.sort(byName);
  return sorted;
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) map.set(key(item), [...(map.get(key(item)) ?? []), item]);
  return map;
}

/** The same rows as the API's grid (store/grid.repository cohortGrid), from the dashboard's faster queries. */
async function gridRows(
  db: Db,
  cohortId: string,
  steps: CourseStep[],
  only: string[] | undefined,
): Promise<GridRow[]> {
  const [learners, cells] = await Promise.all([
    learnerRows(db, cohortId, only),
    latestCells(db, cohortId, only),
  ]);
  const slugOf = new Map(steps.map((s) => [s.number, s.slug]));
  const rows = new Map<string, GridRow>(
    learners.map((l) => [
      l.id,
      {
        learnerId: l.id,
        name: l.name,
        joinedAt: l.joinedAt,
        lastSubmissionAt: l.lastSubmissionAt,
        cells: {},
      },
    ]),
  );
  for (const c of cells) {
    const slug = slugOf.get(c.stepNumber);
    const row = rows.get(c.learnerId);
    if (!slug || !row) continue;
    row.cells[slug] = {
      status: c.status,
      score: c.score,
      maxScore: c.maxScore,
      gradedAt: c.gradedAt,
      submissionId: c.submissionId,
    };
  }
  return [...rows.values()];
}
