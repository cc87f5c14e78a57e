import type { NoteCache, NoteCacheRead } from '../cache/note-cache';
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

  /** Starts the cache read early (callers may issue it alongside other Redis commands). */
  readCache(id: string): Promise<NoteCacheRead> {
    return this.cache.read(id);
  }

  /** Cache-aside read; the owner is checked on a hit as on a miss. */
  async get(
    userId: string,
    id: string,
    cacheRead: Promise<NoteCacheRead> = this.cache.read(id),
  ): Promise<{ note: Note; cache: 'HIT' | 'MISS' }> {
    const { entry, generation } = await cacheRead;
    if (entry) {
      if (entry.ownerId !== userId) throw noteNotFound();
      return { note: entry.note, cache: 'HIT' };
    }
    const note = await this.notes.find(userId, id);
    if (!note) throw noteNotFound();
    this.cache.fill({ ownerId: userId, note }, generation);
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
