import type { Security } from './auth/security';
import type { VerificationService } from './jobs/verification.service';
import type { Config } from './lib/config';
import type { Db } from './lib/db';
import type { Lifecycle } from './lib/lifecycle';
import type { Logger } from './lib/logger';
import type { Redis } from './lib/redis';
import type { NoteEventPublisher } from './notes/notes.types';
import type { User } from './users/users.types';

/** Everything the app needs from the outside world, built by start() and passed to createApp(). */
export interface Deps {
  config: Config;
  logger: Logger;
  db: Db;
  /** The cache client: fails fast when Redis is away. */
  redis: Redis;
  lifecycle: Lifecycle;
  /** Extension point: note changes are announced here (realtime fills it). */
  noteEvents: NoteEventPublisher;
  /** Extension point: runs after a signup is stored (jobs enqueue the verification email). */
  onUserCreated: (user: User) => Promise<void>;
  /** Step 7: email verification tokens and (re)sending (jobs fills it). */
  verification: VerificationService;
  /** Step 9: login rate limit, refresh tokens, access-token revocation. */
  security: Security;
}

export const noNoteEvents: NoteEventPublisher = { publish: () => undefined };

export const noUserCreatedHook = (): Promise<void> => Promise.resolve();
