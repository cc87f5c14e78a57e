import type { Db } from './db';

export type SubmissionStatus = 'queued' | 'grading' | 'graded' | 'error';

export interface Submission {
  id: string;
  learnerId: string;
  cohortId: string;
  sha256: string;
  upToStep: number | null;
  sizeBytes: number;
  fileCount: number;
  status: SubmissionStatus;
  attempts: number;
  worker: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface SubmissionRow {
  id: string;
  learner_id: string;
  cohort_id: string;
  sha256: string;
  up_to_step: number | null;
  size_bytes: number;
  file_count: number;
  status: SubmissionStatus;
  attempts: number;
  worker: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

export const toSubmission = (r: SubmissionRow): Submission => ({
  id: r.id,
  learnerId: r.learner_id,
  cohortId: r.cohort_id,
  sha256: r.sha256,
  upToStep: r.up_to_step,
  sizeBytes: r.size_bytes,
  fileCount: r.file_count,
  status: r.status,
  attempts: r.attempts,
  worker: r.worker,
  createdAt: r.created_at.toISOString(),
  startedAt: r.started_at?.toISOString() ?? null,
  finishedAt: r.finished_at?.toISOString() ?? null,
});

export interface NewSubmission {
  learnerId: string;
  cohortId: string;
  sha256: string;
  upToStep: number | null;
  archive: Buffer;
  files: { path: string; sha256: string; size: number }[];
}

function sameContent(db: Db, s: Pick<NewSubmission, 'learnerId' | 'sha256' | 'upToStep'>) {
  return db<SubmissionRow>('submissions')
    .where({ learner_id: s.learnerId, sha256: s.sha256 })
    .andWhereRaw('coalesce(up_to_step, 0) = ?', [s.upToStep ?? 0])
    .first();
}

/**
 * Stores a submission with its archive, file list and event in one statement (one round trip,
 * one commit, before anything is queued). The same content for the same steps from the same
 * learner is the existing submission. `waiting`: the learner's other submissions waiting or in grading.
 */
export async function storeSubmission(
  db: Db,
  input: NewSubmission,
): Promise<{ submission: Submission; duplicate: boolean; waiting?: number }> {
  const existing = await sameContent(db, input);
  if (existing) return { submission: toSubmission(existing), duplicate: true };
  try {
    const { rows } = await db.raw<{ rows: (SubmissionRow & { waiting: string })[] }>(
      `with inserted as (
         insert into submissions (learner_id, cohort_id, sha256, up_to_step, size_bytes, file_count)
         values (?, ?, ?, ?, ?, ?)
         returning *),
       archive as (
         insert into submission_archives (submission_id, data) select id, ? from inserted),
       files as (
         insert into submission_files (submission_id, path, sha256, size_bytes)
         select inserted.id, f.path, f.sha256, f.size_bytes
           from inserted, unnest(?::text[], ?::text[], ?::int[]) as f(path, sha256, size_bytes)),
       event as (
         insert into events (cohort_id, learner_id, submission_id, type, payload)
         select cohort_id, learner_id, id, 'submission.created',
                jsonb_build_object('upToStep', up_to_step)
           from inserted)
       select inserted.*,
              (select count(*) from submissions w
                where w.learner_id = inserted.learner_id and w.status in ('queued', 'grading')) as waiting
         from inserted`,
      [
        input.learnerId,
        input.cohortId,
        input.sha256,
        input.upToStep,
        input.archive.length,
        input.files.length,
        input.archive,
        input.files.map((f) => f.path),
        input.files.map((f) => f.sha256),
        input.files.map((f) => f.size),
      ],
    );
    const row = rows[0];
    if (!row) throw new Error('the submission was not stored');
    // The count sees the table as it was before this statement: the others only.
    return { submission: toSubmission(row), duplicate: false, waiting: Number(row.waiting) };
  } catch (e) {
    // Two identical uploads raced: the other one won.
    if ((e as { code?: string }).code !== '23505') throw e;
    const winner = await sameContent(db, input);
    if (!winner) throw e;
    return { submission: toSubmission(winner), duplicate: true };
  }
}

export async function submissionById(db: Db, id: string): Promise<Submission | undefined> {
  const row = await db<SubmissionRow>('submissions').where('id', id).first();
  return row ? toSubmission(row) : undefined;
}

/** A learner's own submission; another learner's is undefined (404, not 403: ids are not confirmed). */
export async function submissionOfLearner(
  db: Db,
  learnerId: string,
  id: string,
): Promise<Submission | undefined> {
  const row = await db<SubmissionRow>('submissions').where({ id, learner_id: learnerId }).first();
  return row ? toSubmission(row) : undefined;
}

export async function archiveOf(db: Db, submissionId: string): Promise<Buffer | undefined> {
  const row = await db<{ data: Buffer }>('submission_archives')
    .where('submission_id', submissionId)
    .first('data');
  return row?.data;
}

/**
 * A worker takes a submission: queued (or grading, when a previous worker died) becomes grading.
 * Undefined when it is already graded: the job is a leftover and must not grade again.
 */
export async function claimSubmission(
  db: Db,
  id: string,
  worker: string,
): Promise<Submission | undefined> {
  // One statement (one round trip, one commit): the claim and its event, on each submission's path.
  const { rows } = await db.raw<{ rows: SubmissionRow[] }>(
    `with claimed as (
       update submissions
          set status = 'grading', attempts = attempts + 1, worker = ?, started_at = now()
        where id = ? and status in ('queued', 'grading')
        returning *),
     event as (
       insert into events (cohort_id, learner_id, submission_id, type, payload)
       select cohort_id, learner_id, id, 'submission.grading',
              jsonb_build_object('worker', worker, 'attempt', attempts)
         from claimed)
     select * from claimed`,
    [worker, id],
  );
  const row = rows[0];
  if (!row) return undefined;
  return toSubmission(row);
}

/** Submissions without a result created before `olderThan`: the reconciler makes sure each has a job. */
export async function unfinishedSubmissions(
  db: Db,
  olderThan: Date,
  limit = 500,
): Promise<Submission[]> {
  const rows = await db<SubmissionRow>('submissions')
    .whereIn('status', ['queued', 'grading'])
    .andWhere('created_at', '<', olderThan)
    .orderBy('created_at')
    .limit(limit);
  return rows.map(toSubmission);
}

/** How many of this learner's submissions wait (the queue's fairness: the more waiting, the lower the priority). */
export async function waitingOfLearner(db: Db, learnerId: string): Promise<number> {
  const row = await db('submissions')
    .where('learner_id', learnerId)
    .whereIn('status', ['queued', 'grading'])
    .count<{ n: string }[]>({ n: '*' })
    .first();
  return Number(row?.n ?? 0);
}
