import type { RunResult } from '../../results/types';
import type { Db } from './db';
import { recordEvent } from './events.repository';
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

/**
 * Records the one result of a submission with its per-step and per-check rows, in one
 * transaction. False when a result was already there (another worker finished first): nothing changes.
 */
export async function recordResult(
  db: Db,
  submission: Submission,
  result: RunResult,
  meta: GradeMeta,
): Promise<boolean> {
  return db.transaction(async (trx) => {
    const inserted = await trx('results')
      .insert({
        submission_id: submission.id,
        status: result.status,
        score: result.score,
        max_score: result.maxScore,
        exit_code: meta.exitCode,
        runtime: meta.runtime,
        contained: meta.contained,
        error_code: result.error?.code ?? null,
        error_message: result.error?.message ?? null,
        result: JSON.stringify(result),
        worker: meta.worker,
        duration_ms: Math.round(meta.durationMs),
      })
      .onConflict('submission_id')
      .ignore()
      .returning('submission_id');
    if (inserted.length === 0) return false;
    const gradedAt = new Date();
    if (result.steps.length > 0)
      await trx('step_results').insert(stepRowsOf(submission, result, gradedAt));
    const checks = checkRowsOf(submission.id, result);
    for (let i = 0; i < checks.length; i += 500)
      await trx('check_results').insert(checks.slice(i, i + 500));
    await trx('submissions')
      .where('id', submission.id)
      .update({ status: result.status === 'error' ? 'error' : 'graded', finished_at: gradedAt });
    await recordEvent(trx, {
      cohortId: submission.cohortId,
      learnerId: submission.learnerId,
      submissionId: submission.id,
      type: 'result.recorded',
      payload: { status: result.status, score: result.score, maxScore: result.maxScore },
    });
    return true;
  });
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
