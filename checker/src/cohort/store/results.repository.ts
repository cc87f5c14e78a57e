import type { RunResult } from '../../results/types';
import type { Db } from './db';
import type { Submission } from './submissions.repository';

/** How the result came about, besides the checker's own document. */
export interface GradeMeta {
  worker: string;
  exitCode: number;
  runtime: string;
  /** The checker's `runtime.contained` when it reports one; null when it does not say. */
  contained: boolean | null;
  durationMs: number;
}

export interface StoredResult {
  submissionId: string;
  status: RunResult['status'];
  score: number;
  maxScore: number;
  exitCode: number;
  runtime: string;
  contained: boolean | null;
  error: { code: string; message: string } | null;
  worker: string;
  durationMs: number;
  gradedAt: string;
  result: RunResult;
}

interface ResultRow {
  submission_id: string;
  status: RunResult['status'];
  score: number;
  max_score: number;
  exit_code: number;
  runtime: string;
  contained: boolean | null;
  error_code: string | null;
  error_message: string | null;
  result: RunResult;
  worker: string;
  duration_ms: number;
  graded_at: Date;
}

export const toStoredResult = (r: ResultRow): StoredResult => ({
  submissionId: r.submission_id,
  status: r.status,
  score: r.score,
  maxScore: r.max_score,
  exitCode: r.exit_code,
  runtime: r.runtime,
  contained: r.contained,
  error: r.error_code ? { code: r.error_code, message: r.error_message ?? '' } : null,
  worker: r.worker,
  durationMs: r.duration_ms,
  gradedAt: r.graded_at.toISOString(),
  result: r.result,
});

const STEP_COLUMNS = [
  'submission_id',
  'learner_id',
  'cohort_id',
  'step_number',
  'step_slug',
  'status',
  'score',
  'max_score',
  'graded_at',
] as const;
const CHECK_COLUMNS = [
  'submission_id',
  'step_number',
  'step_slug',
  'position',
  'check_name',
  'status',
  'points',
  'max_points',
  'message',
  'hint',
  'log_excerpt',
] as const;

/**
 * Records the one result of a submission with its per-step and per-check rows, its submission's
 * status and its event, in one statement (one round trip, one commit: it is on each
 * submission's path). False when a result was already there (another worker finished first):
 * nothing changes.
 */
export async function recordResult(
  db: Db,
  submission: Submission,
  result: RunResult,
  meta: GradeMeta,
): Promise<boolean> {
  const gradedAt = new Date();
  const columns = (names: readonly string[]): string => names.join(', ');
  const { rows } = await db.raw<{ rows: { submission_id: string }[] }>(
    `with recorded as (
       insert into results (submission_id, status, score, max_score, exit_code, runtime, contained,
                            error_code, error_message, result, worker, duration_ms)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?)
       on conflict (submission_id) do nothing
       returning submission_id),
     steps as (
       insert into step_results (${columns(STEP_COLUMNS)})
       select ${columns(STEP_COLUMNS)} from jsonb_populate_recordset(null::step_results, ?::jsonb)
        where exists (select 1 from recorded)),
     checks as (
       insert into check_results (${columns(CHECK_COLUMNS)})
       select ${columns(CHECK_COLUMNS)} from jsonb_populate_recordset(null::check_results, ?::jsonb)
        where exists (select 1 from recorded)),
     finished as (
       update submissions set status = ?, finished_at = ?
        where id = ? and exists (select 1 from recorded)),
     event as (
       insert into events (cohort_id, learner_id, submission_id, type, payload)
       select ?, ?, submission_id, 'result.recorded', ?::jsonb from recorded)
     select submission_id from recorded`,
    [
      submission.id,
      result.status,
      result.score,
      result.maxScore,
      meta.exitCode,
      meta.runtime,
      meta.contained,
      result.error?.code ?? null,
      result.error?.message ?? null,
      JSON.stringify(result),
      meta.worker,
      Math.round(meta.durationMs),
      JSON.stringify(stepRowsOf(submission, result, gradedAt)),
      JSON.stringify(checkRowsOf(submission.id, result)),
      result.status === 'error' ? 'error' : 'graded',
      gradedAt,
      submission.id,
      submission.cohortId,
      submission.learnerId,
      JSON.stringify({ status: result.status, score: result.score, maxScore: result.maxScore }),
    ],
  );
  return rows.length > 0;
}

export async function resultOf(db: Db, submissionId: string): Promise<StoredResult | undefined> {
  const row = await db<ResultRow>('results').where('submission_id', submissionId).first();
  return row ? toStoredResult(row) : undefined;
}

/** A result's `step_results` rows (one per graded step). */
export function stepRowsOf(
  submission: { id: string; learnerId: string; cohortId: string },
  result: RunResult,
  gradedAt: Date,
): Record<string, unknown>[] {
  return result.steps.map((s) => ({
    submission_id: submission.id,
    learner_id: submission.learnerId,
    cohort_id: submission.cohortId,
    step_number: s.number,
    step_slug: s.slug,
    status: s.status,
    score: s.score,
    max_score: s.maxScore,
    graded_at: gradedAt,
  }));
}

/** A result's `check_results` rows (one per check, in the step's order). */
export function checkRowsOf(submissionId: string, result: RunResult): Record<string, unknown>[] {
  return result.steps.flatMap((s) =>
    s.checks.map((c, position) => ({
      submission_id: submissionId,
      step_number: s.number,
      step_slug: s.slug,
      position,
      check_name: c.name,
      status: c.status,
      points: c.points,
      max_points: c.maxPoints,
      message: c.message,
      hint: c.hint,
      log_excerpt: c.details?.logs ?? null,
    })),
  );
}
