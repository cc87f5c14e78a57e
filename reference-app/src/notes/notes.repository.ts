import type { Db } from '../lib/db';
import type { NotesCursor } from './notes.cursor';
import type { CreateNoteInput, UpdateNoteInput } from './notes.schemas';
import type { Note } from './notes.types';

interface NoteRow {
  id: string;
  title: string;
  body: string;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = ['id', 'title', 'body', 'created_at', 'updated_at'];

const toNote = (row: NoteRow): Note => ({
  id: row.id,
  title: row.title,
  body: row.body,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

/** Every query is scoped by owner: another user's note is simply not found. */
export class NotesRepository {
  constructor(private readonly db: Db) {}

  async create(userId: string, input: CreateNoteInput): Promise<Note> {
    const [row] = await this.db('notes')
      .insert({ user_id: userId, title: input.title, body: input.body })
      .returning<NoteRow[]>(COLUMNS);
    if (!row) throw new Error('insert returned no row');
    return toNote(row);
  }

  /** Newest first, ties broken by id; one extra row tells whether another page exists. */
  async listPage(
    userId: string,
    limit: number,
    after?: NotesCursor,
  ): Promise<{ notes: Note[]; next?: NotesCursor }> {
    const query = this.db('notes')
      .select<NoteRow[]>(COLUMNS)
      .where({ user_id: userId })
      .orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(limit + 1);
    if (after) query.whereRaw('(created_at, id) < (?, ?)', [after.createdAt, after.id]);
    const rows = await query;
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const next =
      rows.length > limit && last ? { createdAt: last.created_at, id: last.id } : undefined;
    return { notes: page.map(toNote), next };
  }

  async find(userId: string, id: string): Promise<Note | undefined> {
    const row = await this.db('notes')
      .first<NoteRow | undefined>(COLUMNS)
      .where({ id, user_id: userId });
    return row && toNote(row);
  }

  async update(userId: string, id: string, patch: UpdateNoteInput): Promise<Note | undefined> {
    const [row] = await this.db('notes')
      .where({ id, user_id: userId })
      .update({
        ...(patch.title !== undefined && { title: patch.title }),
        ...(patch.body !== undefined && { body: patch.body }),
        // Strictly later than before, even within the same millisecond.
        updated_at: this.db.raw(
          "greatest(clock_timestamp(), updated_at + interval '1 millisecond')",
        ),
      })
      .returning<NoteRow[]>(COLUMNS);
    return row && toNote(row);
  }

  async delete(userId: string, id: string): Promise<boolean> {
    const deleted = await this.db('notes').where({ id, user_id: userId }).delete();
    return deleted > 0;
  }
}
