import type { Db } from './db';
import { hashToken, newToken } from './tokens';

export interface Learner {
  id: string;
  cohortId: string;
  name: string;
  joinedAt: string;
  lastSeenAt: string | null;
}

interface LearnerRow {
  id: string;
  cohort_id: string;
  name: string;
  joined_at: Date;
  last_seen_at: Date | null;
}

const toLearner = (r: LearnerRow): Learner => ({
  id: r.id,
  cohortId: r.cohort_id,
  name: r.name,
  joinedAt: r.joined_at.toISOString(),
  lastSeenAt: r.last_seen_at ? r.last_seen_at.toISOString() : null,
});

export class NameTakenError extends Error {}

/** Adds a learner to a cohort; returns the personal token once (only its hash is stored). */
export async function createLearner(
  db: Db,
  cohortId: string,
  name: string,
): Promise<{ learner: Learner; token: string }> {
  const token = newToken('learner');
  try {
    const [row] = await db('learners')
      .insert({ cohort_id: cohortId, name: name.trim(), token_hash: hashToken(token) })
      .returning<LearnerRow[]>(['id', 'cohort_id', 'name', 'joined_at', 'last_seen_at']);
    if (!row) throw new Error('the learner was not stored');
    return { learner: toLearner(row), token };
  } catch (e) {
    if ((e as { code?: string }).code === '23505') throw new NameTakenError(name);
    throw e;
  }
}

/** The learner holding this token (and notes that they were seen now). */
export async function learnerByToken(db: Db, token: string): Promise<Learner | undefined> {
  const [row] = await db('learners')
    .where('token_hash', hashToken(token))
    .update({ last_seen_at: db.fn.now() })
    .returning<LearnerRow[]>(['id', 'cohort_id', 'name', 'joined_at', 'last_seen_at']);
  return row ? toLearner(row) : undefined;
}

export async function learnersOfCohort(db: Db, cohortId: string): Promise<Learner[]> {
  const rows = await db<LearnerRow>('learners')
    .where('cohort_id', cohortId)
    .orderBy('name')
    .select('id', 'cohort_id', 'name', 'joined_at', 'last_seen_at');
  return rows.map(toLearner);
}

export async function learnerInCohort(
  db: Db,
  cohortId: string,
  learnerId: string,
): Promise<Learner | undefined> {
  const row = await db<LearnerRow>('learners')
    .where({ cohort_id: cohortId, id: learnerId })
    .first('id', 'cohort_id', 'name', 'joined_at', 'last_seen_at');
  return row ? toLearner(row) : undefined;
}
