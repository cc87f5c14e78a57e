import { Router, type NextFunction, type Request, type Response } from 'express';
import { ipKeyGenerator, rateLimit, type Options } from 'express-rate-limit';
import type passport from 'passport';
import type { Db } from '../store/db';
import type { Mentor } from '../store/mentors.repository';
import { pruneExpiredSessions } from './session';
import { loginPage } from './views/login';

/** Failed sign-ins allowed per window, per address and email, and per address. */
export const LOGIN_LIMITS = { windowMs: 15 * 60 * 1000, perEmail: 5, perAddress: 30 };

const emailOf = (req: Request): string => {
  const email: unknown = (req.body as Record<string, unknown> | undefined)?.['email'];
  return typeof email === 'string' ? email.trim().toLowerCase().slice(0, 320) : '';
};

/** Only dashboard paths are followed after sign-in (never another site: no open redirect). */
export function safeNext(value: unknown): string {
  return typeof value === 'string' &&
    /^\/dashboard(\/[\w\-/.?=&%]*)?$/.test(value) &&
    !value.includes('//')
    ? value
    : '/dashboard';
}

function limiter(
  limit: number,
  key: (req: Request) => string,
  csrfToken: (req: Request) => string,
) {
  return rateLimit({
    windowMs: LOGIN_LIMITS.windowMs,
    limit,
    skipSuccessfulRequests: true, // only failed sign-ins count
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: key,
    handler: (req: Request, res: Response, _next: NextFunction, options: Options) => {
      const resetTime = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit
        ?.resetTime;
      const seconds = Math.max(
        1,
        Math.ceil(((resetTime?.getTime() ?? Date.now() + options.windowMs) - Date.now()) / 1000),
      );
      res
        .status(429)
        .set('Retry-After', String(seconds))
        .type('html')
        .send(
          loginPage({
            csrfToken: csrfToken(req),
            next: safeNext((req.body as Record<string, unknown> | undefined)?.['next']),
            email: emailOf(req),
            error: `Too many failed sign-ins: try again in ${Math.ceil(seconds / 60)} minute(s).`,
          }),
        );
    },
  });
}

/** GET/POST /dashboard/login (passport-local, rate limited), POST /dashboard/logout. */
export function authRoutes(
  db: Db,
  auth: passport.Authenticator,
  csrfToken: (req: Request) => string,
): Router {
  const router = Router();
  router.get('/login', (req, res) => {
    if (req.user) return res.redirect(303, safeNext(req.query['next']));
    res
      .type('html')
      .send(loginPage({ csrfToken: csrfToken(req), next: safeNext(req.query['next']) }));
  });

  router.post(
    '/login',
    limiter(LOGIN_LIMITS.perAddress, (req) => ipKeyGenerator(req.ip ?? ''), csrfToken),
    limiter(
      LOGIN_LIMITS.perEmail,
      (req) => `${ipKeyGenerator(req.ip ?? '')}|${emailOf(req)}`,
      csrfToken,
    ),
    (req, res, next) => {
      const next_ = safeNext((req.body as Record<string, unknown> | undefined)?.['next']);
      const refuse = (message: string): void => {
        res
          .status(401)
          .type('html')
          .send(
            loginPage({
              csrfToken: csrfToken(req),
              next: next_,
              email: emailOf(req),
              error: message,
            }),
          );
      };
      const body = req.body as Record<string, unknown> | undefined;
      if (
        typeof body?.['email'] !== 'string' ||
        typeof body['password'] !== 'string' ||
        !body['email'] ||
        !body['password']
      )
        return refuse('Enter your email and password.');
      auth.authenticate(
        'mentor-local',
        { session: false },
        (err: unknown, mentor: Mentor | false) => {
          if (err) return next(err);
          if (!mentor) return refuse('Wrong email or password.');
          // passport 0.7 regenerates the session on login (no session fixation).
          req.login(mentor, (loginError) => {
            if (loginError) return next(loginError);
            pruneExpiredSessions(db).then(
              () => res.redirect(303, next_),
              (e: unknown) => next(e),
            );
          });
        },
      )(req, res, next);
    },
  );

  router.post('/logout', (req, res, next) => {
    req.logout((err) => (err ? next(err) : res.redirect(303, '/dashboard/login')));
  });
  return router;
}
