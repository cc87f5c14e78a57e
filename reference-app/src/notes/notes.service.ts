import type { NoteCache } from '../cache/note-cache';
import { notFound } from '../lib/errors';
import type { NotesCursor } from './notes.cursor';
import type { NotesRepository } from './notes.repository';
import type { CreateNoteInput, UpdateNoteInput } from './notes.schemas';
import type { Note, NoteEventPublisher } from './notes.types';

const noteNotFound = () => notFound('Note not found');

export class NotesService {
  constructor(
    private readonly notes: NotesRepository,
    private readonly cache: NoteCache,
    private readonly events: NoteEventPublisher,
  ) {}

  async create(userId: string, input: CreateNoteInput): Promise<Note> {
    const note = await this.notes.create(userId, input);
    this.events.publish(userId, { type: 'note.created', note });
    return note;
  }

  list(userId: string, limit: number, after?: NotesCursor) {
    return this.notes.listPage(userId, limit, after);
  }

  /** Cache-aside read; the owner is checked on a hit as on a miss. */
  async get(userId: string, id: string): Promise<{ note: Note; cache: 'HIT' | 'MISS' }> {
    const cached = await this.cache.get(id);
    if (cached) {
      if (cached.ownerId !== userId) throw noteNotFound();
      return { note: cached.note, cache: 'HIT' };
    }
    const note = await this.notes.find(userId, id);
    if (!note) throw noteNotFound();
    this.cache.fill({ ownerId: userId, note });
    return { note, cache: 'MISS' };
  }

  async update(userId: string, id: string, patch: UpdateNoteInput): Promise<Note> {
    const note = await this.notes.update(userId, id, patch);
    if (!note) throw noteNotFound();
    await this.cache.invalidate(id);
    this.events.publish(userId, { type: 'note.updated', note });
    return note;
  }

  async delete(userId: string, id: string): Promise<void> {
    if (!(await this.notes.delete(userId, id))) throw noteNotFound();
    await this.cache.invalidate(id);
    this.events.publish(userId, { type: 'note.deleted', note: { id } });
  }
}
