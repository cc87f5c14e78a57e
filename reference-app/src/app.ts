import express, { type Express } from 'express';
import { AccessTokens } from './auth/access-tokens';
import { createAuthMiddleware } from './auth/auth.passport';
import { authRoutes } from './auth/auth.routes';
import { AuthService } from './auth/auth.service';
import { Passwords } from './auth/passwords';
import { NoteCache } from './cache/note-cache';
import type { Deps } from './deps';
import { healthRoutes } from './health/health.routes';
import { NotesRepository } from './notes/notes.repository';
import { notesRoutes } from './notes/notes.routes';
import { NotesService } from './notes/notes.service';
import { UsersRepository } from './users/users.repository';
import { errorHandler, notFoundHandler } from './lib/errors';
import { requestId } from './lib/request-id';

/** Builds the Express app from its dependencies; never listens, never connects. */
export function createApp(deps: Deps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

  app.use(requestId);
  app.use(express.json());

  const users = new UsersRepository(deps.db);
  const authService = new AuthService(users, new Passwords(deps.config.bcryptCost), deps);
  const accessTokens = new AccessTokens(deps.config.jwtSecret);
  const auth = createAuthMiddleware(authService, accessTokens);
  const cache = new NoteCache(deps.redis, deps.config.cacheTtlSeconds, deps.logger);
  const notes = new NotesService(new NotesRepository(deps.db), cache, deps.noteEvents);

  app.use(healthRoutes(deps));
  app.use(authRoutes({ authService, accessTokens, auth, users }));
  app.use(notesRoutes(notes, auth.requireAuth));

  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}
