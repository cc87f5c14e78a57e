import type { Db } from './db';
import { toStoredResult, type StoredResult } from './results.repository';
import { toSubmission, type Submission, type SubmissionRow } from './submissions.repository';

/** One learner × step cell: the step's status and score at the learner's latest graded attempt that included it. */
export interface GridCell {
  status: 'pass' | 'fail' | 'error';
  score: number;
  maxScore: number;
  gradedAt: string;
  submissionId: string;
}

export interface GridRow {
  learnerId: string;
  name: string;
  joinedAt: string;
  lastSubmissionAt: string | null;
  /** Keyed by step slug; a step never graded has no key. */
  cells: Record<string, GridCell>;
}

interface CellRow {
  learner_id: string;
  step_slug: string;
  status: GridCell['status'];
  score: number;
  max_score: number;
  graded_at: Date;
  submission_id: string;
}

export async function cohortGrid(db: Db, cohortId: string): Promise<GridRow[]> {
  const [learners, cells] = await Promise.all([
    db('learners as l')
      .where('l.cohort_id', cohortId)
      .select<{ id: string; name: string; joined_at: Date; last_submission_at: Date | null }[]>(
        'l.id',
        'l.name',
        'l.joined_at',
        db.raw(
          '(select max(created_at) from submissions s where s.learner_id = l.id) as last_submission_at',
        ),
      )
      .orderBy('l.name'),
    db.select<CellRow[]>('*').from(
      db('step_results')
        .where('cohort_id', cohortId)
        .distinctOn('learner_id', 'step_slug')
        .select(
          'learner_id',
          'step_slug',
          'status',
          'score',
          'max_score',
          'graded_at',
          'submission_id',
        )
        .orderBy([
          { column: 'learner_id' },
          { column: 'step_slug' },
          { column: 'graded_at', order: 'desc' },
        ])
        .as('latest'),
    ),
  ]);
  const rows = new Map<string, GridRow>(
    learners.map((l) => [
      l.id,
      {
        learnerId: l.id,
        name: l.name,
        joinedAt: l.joined_at.toISOString(),
        lastSubmissionAt: l.last_submission_at?.toISOString() ?? null,
        cells: {},
      },
    ]),
  );
  for (const c of cells)
    rows.get(c.learner_id)!.cells[c.step_slug] = {
      status: c.status,
      score: c.score,
      maxScore: c.max_score,
      gradedAt: c.graded_at.toISOString(),
      submissionId: c.submission_id,
    };
  return [...rows.values()];
}

export interface CheckRow {
  stepNumber: number;
  step: string;
  name: string;
  status: 'pass' | 'fail' | 'error';
  points: number;
  maxPoints: number;
  message: string;
  hint: string;
  logExcerpt: string | null;
}

export interface Attempt {
  submission: Submission;
  result: Omit<StoredResult, 'result'> | null;
  /** The checks that did not pass, in the checker's order. */
  failingChecks: CheckRow[];
  steps: { number: number; slug: string; status: string; score: number; maxScore: number }[];
}

interface CheckDbRow {
  submission_id: string;
  step_number: number;
  step_slug: string;
  check_name: string;
  status: CheckRow['status'];
  points: number;
  max_points: number;
  message: string;
  hint: string;
  log_excerpt: string | null;
}

const toCheck = (c: CheckDbRow): CheckRow => ({
  stepNumber: c.step_number,
  step: c.step_slug,
  name: c.check_name,
  status: c.status,
  points: c.points,
  maxPoints: c.max_points,
  message: c.message,
  hint: c.hint,
  logExcerpt: c.log_excerpt,
});

/** A learner's attempts, newest first, each with its result summary and failing checks. */
export async function attemptsOfLearner(
  db: Db,
  learnerId: string,
  limit = 100,
): Promise<Attempt[]> {
  const submissions = await db<SubmissionRow>('submissions')
    .where('learner_id', learnerId)
    .orderBy('created_at', 'desc')
    .limit(limit);
  const ids = submissions.map((s) => s.id);
  if (ids.length === 0) return [];
  const [results, failing, steps] = await Promise.all([
    db('results')
      .whereIn('submission_id', ids)
      .select(
        'submission_id',
        'status',
        'score',
        'max_score',
        'exit_code',
        'runtime',
        'contained',
        'error_code',
        'error_message',
        'worker',
        'duration_ms',
        'graded_at',
        db.raw("'{}'::jsonb as result"),
      ),
    db<CheckDbRow>('check_results')
      .whereIn('submission_id', ids)
      .whereNot('status', 'pass')
      .orderBy(['submission_id', 'step_number', 'position']),
    db('step_results')
      .whereIn('submission_id', ids)
      .orderBy(['submission_id', 'step_number'])
      .select<
        {
          submission_id: string;
          step_number: number;
          step_slug: string;
          status: string;
          score: number;
          max_score: number;
        }[]
      >('submission_id', 'step_number', 'step_slug', 'status', 'score', 'max_score'),
  ]);
  return submissions.map((s) => {
    const r = results.find((x: { submission_id: string }) => x.submission_id === s.id);
    let summary: Attempt['result'] = null;
    if (r) {
      const stored: Partial<StoredResult> = toStoredResult(r);
      delete stored.result; // the full document is one request away (GET .../submissions/:id)
      summary = stored as Attempt['result'];
    }
    return {
      submission: toSubmission(s),
      result: summary,
      failingChecks: failing.filter((c) => c.submission_id === s.id).map(toCheck),
      steps: steps
        .filter((x) => x.submission_id === s.id)
        .map((x) => ({
          number: x.step_number,
          slug: x.step_slug,
          status: x.status,
          score: x.score,
          maxScore: x.max_score,
        })),
    };
  });
}

export async function checksOfSubmission(db: Db, submissionId: string): Promise<CheckRow[]> {
  const rows = await db<CheckDbRow>('check_results')
    .where('submission_id', submissionId)
    .orderBy(['step_number', 'position']);
  return rows.map(toCheck);
}

export async function filesOfSubmission(
  db: Db,
  submissionId: string,
): Promise<{ path: string; sha256: string; size: number }[]> {
  const rows = await db('submission_files')
    .where('submission_id', submissionId)
    .orderBy('path')
    .select<{ path: string; sha256: string; size_bytes: number }[]>('path', 'sha256', 'size_bytes');
  return rows.map((r) => ({ path: r.path, sha256: r.sha256, size: r.size_bytes }));
}

/** The latest graded submission of a learner with its full result (for exports). */
export async function latestResultOfLearner(
  db: Db,
  learnerId: string,
): Promise<StoredResult | undefined> {
  const row = await db('results as r')
    .join('submissions as s', 's.id', 'r.submission_id')
    .where('s.learner_id', learnerId)
    .orderBy('r.graded_at', 'desc')
    .first('r.*');
  return row ? toStoredResult(row) : undefined;
}
