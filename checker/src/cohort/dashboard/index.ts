import express, {
  Router,
  type ErrorRequestHandler,
  type Request,
  type RequestHandler,
} from 'express';
import { csrfSync } from 'csrf-sync';
import type passport from 'passport';
import type { CohortDeps } from '../server/deps';
import { CohortError, isDatabaseDown } from '../server/errors';
import { eventRoutes } from '../server/events.routes';
import { mentorById } from '../store/dashboard.repository';
import type { Mentor } from '../store/mentors.repository';
import { DASHBOARD_CSS } from './assets/styles';
import { LIVE_JS } from './assets/live-client';
import { authRoutes } from './auth.routes';
import { pageRoutes } from './pages.routes';
import { startClock } from './send';
import { dashboardSession } from './session';
import { errorPage } from './views/layout';

export const signedInMentor = (req: Request): Mentor | undefined =>
  (req as Request & { user?: Mentor }).user;

/** Pages need a mentor signed in on this session; a token (a learner's or a mentor's) does not open them. */
const requireSignedIn: RequestHandler = (req, res, next) => {
  if (signedInMentor(req)) return next();
  if (req.get('authorization'))
    throw new CohortError(
      403,
      'FORBIDDEN',
      'The dashboard is for mentors signed in with their password; tokens open the JSON API only.',
    );
  // A page (a browser asking for HTML) goes to the sign-in form; anything else (the live event
  // stream, a script) gets the API's 401 in the JSON error shape, not a login page it cannot read.
  if ((req.method === 'GET' || req.method === 'HEAD') && req.get('accept')?.includes('text/html'))
    return res.redirect(303, `/dashboard/login?next=${encodeURIComponent(req.originalUrl)}`);
  if (req.method === 'GET' || req.method === 'HEAD')
    return res.status(401).json({
      error: { code: 'UNAUTHORIZED', message: 'sign in at /dashboard/login first' },
    });
  throw new CohortError(403, 'FORBIDDEN', 'Sign in first.');
};

function htmlErrors(log: (m: string) => void): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    let status = 500;
    let message = 'Something went wrong on our side; it was logged.';
    const e = err as { status?: unknown; code?: unknown };
    if (err instanceof CohortError) ({ status, message } = err);
    else if (e.code === 'EBADCSRFTOKEN') {
      status = 403;
      message =
        'This form did not come from this dashboard session (missing or wrong CSRF token): reload the page and send it again.';
    } else if (isDatabaseDown(err)) {
      status = 503;
      message = 'The cohort database is not reachable right now; try again in a few seconds.';
      res.setHeader('Retry-After', '2');
    } else if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      status = e.status;
      message = 'The request could not be processed.';
    } else
      log(
        `${req.method} ${req.originalUrl}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
    if (res.headersSent) return void res.destroy();
    const mentor = signedInMentor(req);
    res
      .status(status)
      .type('html')
      .send(errorPage(status, message, mentor));
  };
}

/**
 * The mentor dashboard (docs/mentor.md): server-rendered pages under /dashboard with passport
 * sessions in Postgres, CSRF tokens on every form (csrf-sync, synchronizer-token pattern), a
 * sign-in rate limit, and live updates from the cohort's event stream.
 */
export function dashboardRoutes(deps: CohortDeps, auth: passport.Authenticator): Router {
  const { db } = deps;
  auth.deserializeUser((id: string, done) => {
    mentorById(db, id).then(
      (mentor) => done(null, mentor ?? false), // a deleted mentor's session simply ends
      (e: unknown) => done(e),
    );
  });
  const { csrfSynchronisedProtection, generateToken } = csrfSync({
    getTokenFromRequest: (req) => {
      const fromBody: unknown = (req.body as Record<string, unknown> | undefined)?.['_csrf'];
      return typeof fromBody === 'string' ? fromBody : req.get('x-csrf-token');
    },
  });
  const csrfToken = (req: Request): string => generateToken(req);

  const router = Router();
  router.get('/', (_req, res) => res.redirect(303, '/dashboard'));
  router.get('/dashboard/assets/dashboard.css', (_req, res) => {
    res.type('text/css').set('Cache-Control', 'public, max-age=300').send(DASHBOARD_CSS);
  });
  router.get('/dashboard/assets/live.js', (_req, res) => {
    res.type('text/javascript').set('Cache-Control', 'public, max-age=300').send(LIVE_JS);
  });

  const dashboard = Router();
  dashboard.use(startClock);
  dashboard.use((_req, res, next) => {
    res.set({
      'Content-Security-Policy':
        "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'same-origin',
      'Cache-Control': 'no-store',
    });
    next();
  });
  dashboard.use(dashboardSession(db, deps.sessionSecret));
  dashboard.use(auth.session());
  dashboard.use(express.urlencoded({ extended: false, limit: '64kb' }));
  dashboard.use(csrfSynchronisedProtection);
  dashboard.use(authRoutes(db, auth, csrfToken, deps.counters));
  dashboard.use(requireSignedIn);
  dashboard.use('/live', eventRoutes(deps));
  dashboard.use(pageRoutes(deps, csrfToken));
  dashboard.use((_req, _res, next) =>
    next(new CohortError(404, 'NOT_FOUND', 'There is no such page.')),
  );
  dashboard.use(htmlErrors(deps.log));
  router.use('/dashboard', dashboard);
  return router;
}
