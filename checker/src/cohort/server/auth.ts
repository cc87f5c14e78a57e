import type { NextFunction, Request, RequestHandler, Response } from 'express';
import passport from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import type { Db } from '../store/db';
import { learnerByToken, type Learner } from '../store/learners.repository';
import { mentorByToken, verifyMentorPassword, type Mentor } from '../store/mentors.repository';
import { tokenKind } from '../store/tokens';
import { unauthorized } from './errors';

function bearer(req: Request): string | undefined {
  const header = req.get('authorization');
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match?.[1];
}

type Handler = (req: Request, res: Response, next: NextFunction) => Promise<void>;
/** Express 5 forwards rejected promises to the error handler; this keeps the types honest. */
const handler =
  (fn: Handler): RequestHandler =>
  (req, res, next) =>
    fn(req, res, next);

/** Requires a learner token; the learner lands in res.locals.learner. */
export function requireLearner(db: Db): RequestHandler {
  return handler(async (req, res, next) => {
    const token = bearer(req);
    if (!token || tokenKind(token) !== 'learner')
      throw unauthorized(
        'a learner token is required: run `npx sandbox join CODE --server URL` once',
      );
    const learner = await learnerByToken(db, token);
    if (!learner) throw unauthorized('this learner token is not known to the service: join again');
    res.locals['learner'] = learner;
    next();
  });
}

/** Requires a mentor: a mentor API token, or a mentor signed in on the session (req.user, for the dashboard). */
export function requireMentor(db: Db): RequestHandler {
  return handler(async (req, res, next) => {
    const sessionMentor = (req as Request & { user?: Mentor }).user;
    if (sessionMentor?.id) {
      res.locals['mentor'] = sessionMentor;
      return next();
    }
    const token = bearer(req);
    if (!token || tokenKind(token) !== 'mentor')
      throw unauthorized(
        'a mentor token is required: POST /api/mentor/session with email and password',
      );
    const mentor = await mentorByToken(db, token);
    if (!mentor) throw unauthorized('this mentor token is unknown or expired: sign in again');
    res.locals['mentor'] = mentor;
    next();
  });
}

export const learnerOf = (res: Response): Learner => res.locals['learner'] as Learner;
export const mentorOf = (res: Response): Mentor => res.locals['mentor'] as Mentor;

/**
 * passport with the local strategy (email + password, bcrypt) on its own instance, so two
 * services in one process (tests) never share strategies. Sessions are the dashboard's to add.
 */
export function createPassport(db: Db): passport.PassportStatic {
  const instance = new passport.Passport();
  instance.use(
    'mentor-local',
    new LocalStrategy(
      { usernameField: 'email', passwordField: 'password', session: false },
      (email, password, done) => {
        verifyMentorPassword(db, email, password).then(
          (mentor) => done(null, mentor ?? false),
          (e: unknown) => done(e),
        );
      },
    ),
  );
  instance.serializeUser((user, done) => done(null, (user as Mentor).id));
  return instance as unknown as passport.PassportStatic;
}
