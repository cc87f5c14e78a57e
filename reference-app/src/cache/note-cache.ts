import type { Logger } from '../lib/logger';
import type { Redis } from '../lib/redis';
import type { Note } from '../notes/notes.types';

export interface CachedNote {
  ownerId: string;
  note: Note;
}

/** What one cache read found: the entry, and the generation a fill from Postgres must still see. */
export interface NoteCacheRead {
  entry?: CachedNote;
  /** Undefined when this id must not be filled now (an invalidation is still owed to Redis). */
  generation?: string;
}

export const noteCacheKey = (id: string): string => `cache:note:${id}`;
/** Bumped by every write: a reader that loaded an older row from Postgres does not cache it. */
export const noteGenerationKey = (id: string): string => `cache:note:${id}:gen`;
/** Must outlive any read in flight; far longer than a Postgres query takes. */
const GENERATION_TTL_SECONDS = 3600;

/** SET the entry only if the generation is still the one read before Postgres was queried. */
const FILL_IF_CURRENT = `
local current = redis.call('GET', KEYS[2]) or ''
if current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1`;

/**
 * Cache-aside storage for single notes. It never throws: when Redis is away (the client fails
 * fast), reads are misses and writes are skipped, so callers fall back to Postgres.
 * An invalidation Redis did not take is owed: the id is neither read nor filled from the cache
 * until the invalidation went through, which is retried as soon as Redis is back.
 */
export class NoteCache {
  /** Ids whose invalidation Redis did not take, with the number of the latest failed attempt. */
  private readonly owed = new Map<string, number>();
  private attempts = 0;
  private paying: Promise<void> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
    private readonly logger: Logger,
  ) {
    redis.on('ready', this.payOwed);
  }

  /** One round trip for the entry and its generation. */
  async read(id: string): Promise<NoteCacheRead> {
    if (this.owed.size > 0 && this.owed.has(id)) {
      this.payOwed();
      return {};
    }
    try {
      const [entry, generation] = await this.redis.mget(noteCacheKey(id), noteGenerationKey(id));
      if (entry !== null && entry !== undefined)
        return { entry: JSON.parse(entry) as CachedNote, generation: generation ?? '' };
      return { generation: generation ?? '' };
    } catch (err) {
      this.logger.debug({ err, id }, 'note cache read failed');
      return {};
    }
  }

  /** Fire and forget, and only if no write happened since `read` (the answer does not wait). */
  fill(entry: CachedNote, generation: string | undefined): void {
    const id = entry.note.id;
    if (generation === undefined || this.owed.has(id)) return;
    this.redis
      .eval(
        FILL_IF_CURRENT,
        2,
        noteCacheKey(id),
        noteGenerationKey(id),
        generation,
        JSON.stringify(entry),
        this.ttlSeconds,
      )
      .catch((err: unknown) => {
        this.logger.debug({ err, id }, 'note cache write failed');
      });
  }

  /** Awaited by writers, so the next read cannot see the old value; owed when Redis is away. */
  async invalidate(id: string): Promise<void> {
    try {
      await this.dropFromRedis([id]);
    } catch (err) {
      this.owed.set(id, ++this.attempts);
      this.logger.warn({ err, id }, 'note cache invalidation failed; retried when Redis is back');
    }
  }

  close(): void {
    this.redis.off('ready', this.payOwed);
  }

  private async dropFromRedis(ids: string[]): Promise<void> {
    const tx = this.redis.multi();
    for (const id of ids) {
      tx.incr(noteGenerationKey(id));
      tx.expire(noteGenerationKey(id), GENERATION_TTL_SECONDS);
      tx.del(noteCacheKey(id));
    }
    const results = await tx.exec();
    const failed = results?.find(([err]) => err !== null);
    if (!results || failed) throw failed?.[0] ?? new Error('cache invalidation was discarded');
  }

  /** Retries the owed invalidations (one at a time; new debts wait for the next attempt). */
  private readonly payOwed = (): void => {
    if (this.paying || this.owed.size === 0 || this.redis.status !== 'ready') return;
    const debts = [...this.owed];
    const ids = debts.map(([id]) => id);
    this.paying = this.dropFromRedis(ids)
      .then(() => {
        // An attempt that failed meanwhile stays owed: its write may have committed after this DEL.
        for (const [id, attempt] of debts) if (this.owed.get(id) === attempt) this.owed.delete(id);
        this.logger.info({ count: ids.length }, 'owed note cache invalidations done');
      })
      .catch((err: unknown) => this.logger.warn({ err }, 'owed note cache invalidations failed'))
      .finally(() => {
        this.paying = undefined;
      });
  };
}
