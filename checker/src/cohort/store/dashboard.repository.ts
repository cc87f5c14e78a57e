import type { Db } from './db';

// The dashboard's own queries (docs/mentor.md): what the JSON API's grid and attempts do not say.

/** The learner's newest submission, whatever its state (a cell shows "queued" or "grading" live). */
export interface LatestSubmission {
  submissionId: string;
  status: 'queued' | 'grading' | 'graded' | 'error';
  createdAt: string;
}

export async function latestSubmissions(
  db: Db,
  cohortId: string,
): Promise<Map<string, LatestSubmission>> {
  const rows = await db('submissions')
    .where('cohort_id', cohortId)
    .distinctOn('learner_id')
    .orderBy([{ column: 'learner_id' }, { column: 'created_at', order: 'desc' }])
    .select<
      { learner_id: string; id: string; status: LatestSubmission['status']; created_at: Date }[]
    >('learner_id', 'id', 'status', 'created_at');
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
): Promise<RepeatedFailure[]> {
  const { rows } = await db.raw<{
    rows: { learner_id: string; step_slug: string; check_name: string; n: string }[];
  }>(
    `with recent as (
       select s.id, s.learner_id,
              row_number() over (partition by s.learner_id order by s.created_at desc) as rn
         from submissions s
         join results r on r.submission_id = s.id
        where s.cohort_id = ?
     )
     select rc.learner_id, c.step_slug, c.check_name, count(distinct rc.id) as n
       from recent rc
       join check_results c on c.submission_id = rc.id and c.status <> 'pass'
      where rc.rn <= ?
      group by rc.learner_id, c.step_slug, c.check_name
     having count(distinct rc.id) >= ?`,
    [cohortId, attempts, attempts],
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
  step: string;
  at: string;
}

export async function firstPasses(db: Db, cohortId: string): Promise<FirstPass[]> {
  const rows = await db('step_results')
    .where({ cohort_id: cohortId, status: 'pass' })
    .groupBy('learner_id', 'step_slug')
    .select<{ learner_id: string; step_slug: string; at: Date }[]>(
      'learner_id',
      'step_slug',
      db.raw('min(graded_at) as at'),
    );
  return rows.map((r) => ({ learnerId: r.learner_id, step: r.step_slug, at: r.at.toISOString() }));
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
