import express, { type Express } from 'express';
import helmet from 'helmet';
import { AccessTokens } from './auth/access-tokens';
import { createAuthMiddleware } from './auth/auth.passport';
import { authRoutes } from './auth/auth.routes';
import { AuthService } from './auth/auth.service';
import { loginRateLimit } from './auth/login-rate-limit';
import { Passwords } from './auth/passwords';
import { refuseRevoked } from './auth/revocation-check';
import { sessionRoutes } from './auth/session.routes';
import { NoteCache } from './cache/note-cache';
import type { Deps } from './deps';
import { healthRoutes } from './health/health.routes';
import { verificationRoutes } from './jobs/verification.routes';
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
  // No conditional GETs in this API: skip hashing every JSON body for an ETag nobody sends back.
  app.set('etag', false);
  app.set('trust proxy', false);

  app.use(requestId);
  app.use(helmet());
  // strict: false so any valid JSON parses (a bare string is a validation error, not BAD_JSON).
  app.use(express.json({ limit: '100kb', strict: false }));

  const users = new UsersRepository(deps.db);
  const authService = new AuthService(users, new Passwords(deps.config.bcryptCost), deps);
  const accessTokens = new AccessTokens(deps.config.jwtSecret);
  const { security } = deps;
  const passportAuth = createAuthMiddleware(authService, accessTokens);
  const auth = {
    ...passportAuth,
    requireAuth: refuseRevoked(passportAuth.requireAuth, security.revocations),
  };
  const cache = new NoteCache(deps.redis, deps.config.cacheTtlSeconds, deps.logger);
  deps.lifecycle.onClose('note cache', () => cache.close());
  const notes = new NotesService(new NotesRepository(deps.db), cache, deps.noteEvents);

  app.use(healthRoutes(deps));
  // The hottest routes first: a request walks every router mounted before the one that answers it.
  app.use(notesRoutes(notes, auth.requireAuth));
  app.post('/auth/login', loginRateLimit(security.loginLimiter));
  app.use(
    authRoutes({ authService, accessTokens, auth, users, refreshTokens: security.refreshTokens }),
  );
  app.use(verificationRoutes({ verification: deps.verification, users }));
  app.use(sessionRoutes({ accessTokens, ...security, requireAuth: auth.requireAuth }));

  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}
