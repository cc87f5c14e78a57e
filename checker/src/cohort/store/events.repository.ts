import type { Knex } from 'knex';
import type { Db } from './db';

/** What the live stream carries; payloads are small (ids, statuses, scores), the API has the rest. */
export type EventType =
  | 'learner.joined'
  | 'submission.created'
  | 'submission.grading'
  | 'result.recorded'
  | 'note.created'
  | 'note.received'
  | 'note.read';

export interface CohortEvent {
  id: string;
  cohortId: string;
  learnerId: string | null;
  submissionId: string | null;
  type: EventType;
  payload: Record<string, unknown>;
  createdAt: string;
}

interface EventRow {
  id: string;
  cohort_id: string;
  learner_id: string | null;
  submission_id: string | null;
  type: EventType;
  payload: Record<string, unknown>;
  created_at: Date;
}

export async function recordEvent(
  db: Db | Knex.Transaction,
  event: {
    cohortId: string;
    type: EventType;
    learnerId?: string;
    submissionId?: string;
    payload?: Record<string, unknown>;
  },
): Promise<void> {
  await db('events').insert({
    cohort_id: event.cohortId,
    type: event.type,
    learner_id: event.learnerId ?? null,
    submission_id: event.submissionId ?? null,
    payload: JSON.stringify(event.payload ?? {}),
  });
}

/** Events of a cohort after `afterId` (exclusive), oldest first. */
export async function eventsSince(
  db: Db,
  cohortId: string,
  afterId: string,
  limit = 200,
): Promise<CohortEvent[]> {
  const rows = await db<EventRow>('events')
    .where('cohort_id', cohortId)
    .andWhere('id', '>', afterId)
    .orderBy('id')
    .limit(limit);
  return rows.map((r) => ({
    id: String(r.id),
    cohortId: r.cohort_id,
    learnerId: r.learner_id,
    submissionId: r.submission_id,
    type: r.type,
    payload: r.payload,
    createdAt: r.created_at.toISOString(),
  }));
}

/** The newest event id of a cohort ('0' when none): a stream opened without Last-Event-ID starts after it. */
export async function lastEventId(db: Db, cohortId: string): Promise<string> {
  const row = await db('events')
    .where('cohort_id', cohortId)
    .max<{ id: string | null }>('id as id')
    .first();
  return row?.id ? String(row.id) : '0';
}
