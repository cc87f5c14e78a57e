import type { Db } from './db';
import { recordEvent } from './events.repository';

export interface FeedbackNote {
  id: string;
  learnerId: string;
  author: string;
  step: string | null;
  message: string;
  createdAt: string;
  receivedAt: string | null;
  readAt: string | null;
}

interface NoteRow {
  id: string;
  learner_id: string;
  cohort_id: string;
  author: string;
  step_slug: string | null;
  message: string;
  created_at: Date;
  received_at: Date | null;
  read_at: Date | null;
}

const toNote = (r: NoteRow): FeedbackNote => ({
  id: r.id,
  learnerId: r.learner_id,
  author: r.author,
  step: r.step_slug,
  message: r.message,
  createdAt: r.created_at.toISOString(),
  receivedAt: r.received_at?.toISOString() ?? null,
  readAt: r.read_at?.toISOString() ?? null,
});

const notes = (db: Db) =>
  db('feedback_notes as n')
    .join('mentors as m', 'm.id', 'n.mentor_id')
    .select<NoteRow[]>('n.*', 'm.name as author');

export async function createNote(
  db: Db,
  input: {
    cohortId: string;
    learnerId: string;
    mentorId: string;
    step: string | null;
    message: string;
  },
): Promise<FeedbackNote> {
  const id = await db.transaction(async (trx) => {
    const [row] = await trx('feedback_notes')
      .insert({
        cohort_id: input.cohortId,
        learner_id: input.learnerId,
        mentor_id: input.mentorId,
        step_slug: input.step,
        message: input.message,
      })
      .returning<{ id: string }[]>('id');
    if (!row) throw new Error('the note was not stored');
    await recordEvent(trx, {
      cohortId: input.cohortId,
      learnerId: input.learnerId,
      type: 'note.created',
      payload: { noteId: row.id, step: input.step },
    });
    return row.id;
  });
  const row = await notes(db).where('n.id', id).first();
  if (!row) throw new Error('the note was not stored');
  return toNote(row);
}

export async function notesOfLearner(db: Db, learnerId: string): Promise<FeedbackNote[]> {
  const rows = await notes(db).where('n.learner_id', learnerId).orderBy('n.created_at');
  return rows.map(toNote);
}

/** The learner's notes, oldest first; those fetched for the first time are marked received. */
export async function deliverNotes(
  db: Db,
  learner: { id: string; cohortId: string },
): Promise<FeedbackNote[]> {
  const received = await db('feedback_notes')
    .where('learner_id', learner.id)
    .whereNull('received_at')
    .update({ received_at: db.fn.now() })
    .returning<{ id: string }[]>('id');
  for (const r of received)
    await recordEvent(db, {
      cohortId: learner.cohortId,
      learnerId: learner.id,
      type: 'note.received',
      payload: { noteId: r.id },
    });
  return notesOfLearner(db, learner.id);
}

/** Marks one of the learner's notes read; false when it is not theirs. */
export async function markNoteRead(
  db: Db,
  learner: { id: string; cohortId: string },
  noteId: string,
): Promise<boolean> {
  const updated = await db('feedback_notes')
    .where({ id: noteId, learner_id: learner.id })
    .update({
      read_at: db.raw('coalesce(read_at, now())'),
      received_at: db.raw('coalesce(received_at, now())'),
    })
    .returning('id');
  if (updated.length === 0) return false;
  await recordEvent(db, {
    cohortId: learner.cohortId,
    learnerId: learner.id,
    type: 'note.read',
    payload: { noteId },
  });
  return true;
}
