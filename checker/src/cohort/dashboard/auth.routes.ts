import { Router, type Request } from 'express';
import type passport from 'passport';
import { emailOf, signInLimits, type SharedCountersConfig } from '../server/sign-in-limits';
import type { Db } from '../store/db';
import type { Mentor } from '../store/mentors.repository';
import { pruneExpiredSessions } from './session';
import { loginPage } from './views/login';

/** Only dashboard paths are followed after sign-in (never another site: no open redirect). */
export function safeNext(value: unknown): string {
  return typeof value === 'string' &&
    /^\/dashboard(\/[\w\-/.?=&%]*)?$/.test(value) &&
    !value.includes('//')
    ? value
    : '/dashboard';
}

/** GET/POST /dashboard/login (passport-local, rate limited), POST /dashboard/logout. */
export function authRoutes(
  db: Db,
  auth: passport.Authenticator,
  csrfToken: (req: Request) => string,
  counters: SharedCountersConfig | undefined,
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
    ...signInLimits('dashboard', counters, (req, res, seconds) => {
      res
        .status(429)
        .type('html')
        .send(
          loginPage({
            csrfToken: csrfToken(req),
            next: safeNext((req.body as Record<string, unknown> | undefined)?.['next']),
            email: emailOf(req),
            error: `Too many failed sign-ins: try again in ${Math.ceil(seconds / 60)} minute(s).`,
          }),
        );
    }),
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
