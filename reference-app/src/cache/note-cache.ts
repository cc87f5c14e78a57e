import type { Logger } from '../lib/logger';
import type { Redis } from '../lib/redis';
import type { Note } from '../notes/notes.types';

export interface CachedNote {
  ownerId: string;
  note: Note;
}

export const noteCacheKey = (id: string): string => `cache:note:${id}`;

/**
 * Cache-aside storage for single notes. It never throws: when Redis is away (the client fails
 * fast), reads are misses and writes are skipped, so callers fall back to Postgres.
 */
export class NoteCache {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
    private readonly logger: Logger,
  ) {}

  async get(id: string): Promise<CachedNote | undefined> {
    try {
      const cached = await this.redis.get(noteCacheKey(id));
      return cached === null ? undefined : (JSON.parse(cached) as CachedNote);
    } catch (err) {
      this.logger.debug({ err, id }, 'note cache read failed');
      return undefined;
    }
  }

  /** Fire and forget: the answer does not wait for the cache to be filled. */
  fill(entry: CachedNote): void {
    this.redis
      .set(noteCacheKey(entry.note.id), JSON.stringify(entry), 'EX', this.ttlSeconds)
      .catch((err: unknown) => {
        this.logger.debug({ err, id: entry.note.id }, 'note cache write failed');
      });
  }

  /** Awaited by writers, so the next read cannot see the old value. */
  async invalidate(id: string): Promise<void> {
    try {
      await this.redis.del(noteCacheKey(id));
    } catch (err) {
      this.logger.warn({ err, id }, 'note cache invalidation failed');
    }
  }
}
