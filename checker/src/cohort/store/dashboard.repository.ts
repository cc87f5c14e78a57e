import type { Db } from './db';

// The dashboard's own queries (docs/mentor.md): what the JSON API's grid and attempts do not say.

/** The learner's newest submission, whatever its state (a cell shows "queued" or "grading" live). */
export interface LatestSubmission {
  submissionId: string;
  status: 'queued' | 'grading' | 'graded' | 'error';
  createdAt: string;
}

/** Some of the cohort's learners (a live update of their rows), or all of them. */
export type Only = string[] | undefined;
const onlyLearners = (column: string, only: Only): [string, string[][]] =>
  only ? [` and ${column} = any(?)`, [only]] : ['', []];

export async function latestSubmissions(
  db: Db,
  cohortId: string,
  only?: Only,
): Promise<Map<string, LatestSubmission>> {
  const [filter, bindings] = onlyLearners('l.id', only);
  // One index probe per learner (submissions by learner_id, created_at), no sort over the cohort.
  const { rows } = await db.raw<{
    rows: {
      learner_id: string;
      id: string;
      status: LatestSubmission['status'];
      created_at: Date;
    }[];
  }>(
    `select l.id as learner_id, s.id, s.status, s.created_at
       from learners l
       cross join lateral (
         select id, status, created_at from submissions
          where learner_id = l.id order by created_at desc limit 1
       ) s
      where l.cohort_id = ?${filter}`,
    [cohortId, ...bindings],
  );
  return new Map(
    rows.map((r) => [
      r.learner_id,
      { submissionId: r.id, status: r.status, createdAt: r.created_at.toISOString() },
    ]),
  );
}

/** A check that failed in each of a learner's last N graded attempts. */
export interface RepeatedFailure {
  learnerId: string;
  step: string;
  check: string;
  attempts: number;
}

/** Per learner, the checks failing in every one of their last `attempts` graded submissions. */
export async function repeatedFailures(
  db: Db,
  cohortId: string,
  attempts: number,
  only?: Only,
): Promise<RepeatedFailure[]> {
  const [filter, bindings] = onlyLearners('l.id', only);
  const { rows } = await db.raw<{
    rows: { learner_id: string; step_slug: string; check_name: string; n: string }[];
  }>(
    `select l.id as learner_id, c.step_slug, c.check_name, count(distinct rc.id) as n
       from learners l
       cross join lateral (
         select s.id from submissions s
           join results r on r.submission_id = s.id
          where s.learner_id = l.id
          order by s.created_at desc
          limit ?
       ) rc
       join check_results c on c.submission_id = rc.id and c.status <> 'pass'
      where l.cohort_id = ?${filter}
      group by l.id, c.step_slug, c.check_name
     having count(distinct rc.id) >= ?`,
    [attempts, cohortId, ...bindings, attempts],
  );
  return rows.map((r) => ({
    learnerId: r.learner_id,
    step: r.step_slug,
    check: r.check_name,
    attempts: Number(r.n),
  }));
}

/** When each learner first passed each step (progress over time). */
export interface FirstPass {
  learnerId: string;
  stepNumber: number;
  at: string;
}

export async function firstPasses(db: Db, cohortId: string, only?: Only): Promise<FirstPass[]> {
  // Grouped by step number, not slug: no text collation in the aggregate.
  const rows = await db('step_results')
    .where({ cohort_id: cohortId, status: 'pass' })
    .modify((q) => void (only && q.whereIn('learner_id', only)))
    .groupBy('learner_id', 'step_number')
    .select<{ learner_id: string; step_number: number; at: Date }[]>(
      'learner_id',
      'step_number',
      db.raw('min(graded_at) as at'),
    );
  return rows.map((r) => ({
    learnerId: r.learner_id,
    stepNumber: r.step_number,
    at: r.at.toISOString(),
  }));
}

/** Per learner and step number, the step as graded in their latest attempt that included it (the grid's cells). */
export interface LatestCell {
  learnerId: string;
  stepNumber: number;
  status: 'pass' | 'fail' | 'error';
  score: number;
  maxScore: number;
  gradedAt: string;
  submissionId: string;
}

export async function latestCells(db: Db, cohortId: string, only?: Only): Promise<LatestCell[]> {
  // distinct on (uuid, smallint): sorting by the slug's text collation took most of the grid's time.
  const rows = await db('step_results')
    .where('cohort_id', cohortId)
    .modify((q) => void (only && q.whereIn('learner_id', only)))
    .distinctOn('learner_id', 'step_number')
    .orderBy([
      { column: 'learner_id' },
      { column: 'step_number' },
      { column: 'graded_at', order: 'desc' },
    ])
    .select<
      {
        learner_id: string;
        step_number: number;
        status: LatestCell['status'];
        score: number;
        max_score: number;
        graded_at: Date;
        submission_id: string;
      }[]
    >('learner_id', 'step_number', 'status', 'score', 'max_score', 'graded_at', 'submission_id');
  return rows.map((r) => ({
    learnerId: r.learner_id,
    stepNumber: r.step_number,
    status: r.status,
    score: r.score,
    maxScore: r.max_score,
    gradedAt: r.graded_at.toISOString(),
    submissionId: r.submission_id,
  }));
}

/** The cohort's learners with when they last submitted (the grid's rows). */
export async function learnerRows(
  db: Db,
  cohortId: string,
  only?: Only,
): Promise<{ id: string; name: string; joinedAt: string; lastSubmissionAt: string | null }[]> {
  const { rows } = await db.raw<{
    rows: { id: string; name: string; joined_at: Date; last_submission_at: Date | null }[];
  }>(
    `select l.id, l.name, l.joined_at,
            (select max(created_at) from submissions s where s.learner_id = l.id) as last_submission_at
       from learners l where l.cohort_id = ?${onlyLearners('l.id', only)[0]}`,
    [cohortId, ...onlyLearners('l.id', only)[1]],
  );
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    joinedAt: r.joined_at.toISOString(),
    lastSubmissionAt: r.last_submission_at?.toISOString() ?? null,
  }));
}

/** A check as failed in the cohort since a time: how often and by how many learners. */
export interface FailedCheck {
  stepNumber: number;
  step: string;
  check: string;
  failures: number;
  learners: number;
}

export async function mostFailedChecks(
  db: Db,
  cohortId: string,
  since: Date,
  limit = 15,
): Promise<FailedCheck[]> {
  const rows = await db('check_results as c')
    .join('submissions as s', 's.id', 'c.submission_id')
    .where('s.cohort_id', cohortId)
    .andWhere('s.created_at', '>=', since)
    .andWhereNot('c.status', 'pass')
    .groupBy('c.step_number', 'c.step_slug', 'c.check_name')
    .orderBy([
      { column: 'learners', order: 'desc' },
      { column: 'failures', order: 'desc' },
      { column: 'c.step_number' },
    ])
    .limit(limit)
    .select<
      {
        step_number: number;
        step_slug: string;
        check_name: string;
        failures: string;
        learners: string;
      }[]
    >(
      'c.step_number',
      'c.step_slug',
      'c.check_name',
      db.raw('count(*) as failures'),
      db.raw('count(distinct s.learner_id) as learners'),
    );
  return rows.map((r) => ({
    stepNumber: r.step_number,
    step: r.step_slug,
    check: r.check_name,
    failures: Number(r.failures),
    learners: Number(r.learners),
  }));
}

/** The mentor of a dashboard session (passport's deserializeUser). */
export async function mentorById(
  db: Db,
  id: string,
): Promise<{ id: string; email: string; name: string; createdAt: string } | undefined> {
  const row = await db('mentors')
    .where('id', id)
    .first<{ id: string; email: string; name: string; created_at: Date } | undefined>(
      'id',
      'email',
      'name',
      'created_at',
    );
  return row
    ? { id: row.id, email: row.email, name: row.name, createdAt: row.created_at.toISOString() }
    : undefined;
}

/** How many learners each of these cohorts has. */
export async function learnerCounts(db: Db, cohortIds: string[]): Promise<Map<string, number>> {
  if (cohortIds.length === 0) return new Map();
  const rows = await db('learners')
    .whereIn('cohort_id', cohortIds)
    .groupBy('cohort_id')
    .select<{ cohort_id: string; n: string }[]>('cohort_id', db.raw('count(*) as n'));
  return new Map(rows.map((r) => [r.cohort_id, Number(r.n)]));
}
