import type { Db } from './db';
import { newInviteCode } from './tokens';

export interface Cohort {
  id: string;
  name: string;
  inviteCode: string;
  inviteOpen: boolean;
  createdAt: string;
}

interface CohortRow {
  id: string;
  name: string;
  invite_code: string;
  invite_open: boolean;
  created_at: Date;
}

const toCohort = (r: CohortRow): Cohort => ({
  id: r.id,
  name: r.name,
  inviteCode: r.invite_code,
  inviteOpen: r.invite_open,
  createdAt: r.created_at.toISOString(),
});

/** Creates a cohort with a fresh invite code; its creator is its first mentor. */
export async function createCohort(db: Db, name: string, mentorId: string): Promise<Cohort> {
  return db.transaction(async (trx) => {
    const [row] = await trx('cohorts')
      .insert({ name: name.trim(), invite_code: newInviteCode(), created_by: mentorId })
      .returning<CohortRow[]>('*');
    if (!row) throw new Error('the cohort was not stored');
    await trx('cohort_mentors').insert({ cohort_id: row.id, mentor_id: mentorId });
    return toCohort(row);
  });
}

export async function cohortsOfMentor(db: Db, mentorId: string): Promise<Cohort[]> {
  const rows = await db('cohorts as c')
    .join('cohort_mentors as cm', 'cm.cohort_id', 'c.id')
    .where('cm.mentor_id', mentorId)
    .orderBy('c.created_at')
    .select<CohortRow[]>('c.*');
  return rows.map(toCohort);
}

/** The cohort when this mentor belongs to it; undefined otherwise (the caller answers 404). */
export async function cohortOfMentor(
  db: Db,
  mentorId: string,
  cohortId: string,
): Promise<Cohort | undefined> {
  const row = await db('cohorts as c')
    .join('cohort_mentors as cm', 'cm.cohort_id', 'c.id')
    .where({ 'cm.mentor_id': mentorId, 'c.id': cohortId })
    .first<CohortRow | undefined>('c.*');
  return row ? toCohort(row) : undefined;
}

export async function cohortByInviteCode(db: Db, code: string): Promise<Cohort | undefined> {
  const row = await db<CohortRow>('cohorts')
    .where('invite_code', code.trim().toUpperCase())
    .first();
  return row ? toCohort(row) : undefined;
}

/**
 * Closes the cohort's invite code (joining with it is refused from now on), or opens a fresh one:
 * a reopened cohort never takes the old code again, so a code that leaked stays useless.
 */
export async function setInvite(db: Db, cohortId: string, open: boolean): Promise<Cohort> {
  const [row] = await db('cohorts')
    .where('id', cohortId)
    .update(open ? { invite_open: true, invite_code: newInviteCode() } : { invite_open: false })
    .returning<CohortRow[]>('*');
  if (!row) throw new Error('no such cohort');
  return toCohort(row);
}

export async function addMentorToCohort(db: Db, cohortId: string, mentorId: string): Promise<void> {
  await db('cohort_mentors')
    .insert({ cohort_id: cohortId, mentor_id: mentorId })
    .onConflict(['cohort_id', 'mentor_id'])
    .ignore();
}

export async function mentorsOfCohort(
  db: Db,
  cohortId: string,
): Promise<{ id: string; name: string; email: string }[]> {
  return db('mentors as m')
    .join('cohort_mentors as cm', 'cm.mentor_id', 'm.id')
    .where('cm.cohort_id', cohortId)
    .orderBy('cm.added_at')
    .select('m.id', 'm.name', 'm.email');
}
