import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type passport from 'passport';
import { formatGradescope } from '../../reporters/gradescope';
import {
  addMentorToCohort,
  cohortOfMentor,
  cohortsOfMentor,
  createCohort,
  mentorsOfCohort,
  setInvite,
  type Cohort,
} from '../store/cohorts.repository';
import { createNote, notesOfLearner } from '../store/feedback.repository';
import {
  attemptsOfLearner,
  checksOfSubmission,
  cohortGrid,
  filesOfSubmission,
  latestResultOfLearner,
} from '../store/grid.repository';
import { learnerInCohort, learnersOfCohort } from '../store/learners.repository';
import {
  createMentor,
  findMentorByEmail,
  issueMentorToken,
  revokeMentorToken,
  type Mentor,
} from '../store/mentors.repository';
import { resultOf } from '../store/results.repository';
import { submissionById } from '../store/submissions.repository';
import { mentorOf, requireMentor } from './auth';
import type { CohortDeps } from './deps';
import { gridCsv } from './csv';
import { CohortError, notFound, unauthorized } from './errors';
import { MIN_PASSWORD_LENGTH } from './first-mentor';
import { idParam, optionalTextField, textField } from './params';
import { signInLimits } from './sign-in-limits';

/** What mentors (and the dashboard) call: sign in, cohorts, learners, the grid, attempts, notes, exports. */
export function mentorRoutes(deps: CohortDeps, auth: passport.Authenticator): Router {
  const { db } = deps;
  const router = Router();
  const mentor = requireMentor(db);
  const json = express.json({ limit: '64kb' });

  // Failed sign-ins are limited like the dashboard's form (its own counters, the same limits).
  const limited = signInLimits('api', deps.counters, (_req, res, seconds) => {
    res.status(429).json({
      error: {
        code: 'RATE_LIMITED',
        message: `too many failed sign-ins: try again in ${Math.ceil(seconds / 60)} minute(s)`,
      },
    });
  });

  router.post(
    '/mentor/session',
    json,
    ...limited,
    (req: Request, res: Response, next: NextFunction) => {
      textField(req.body, 'email', 320);
      textField(req.body, 'password', 1000);
      auth.authenticate(
        'mentor-local',
        { session: false },
        (err: unknown, found: Mentor | false) => {
          if (err) return next(err);
          if (!found) return next(unauthorized('wrong email or password'));
          issueMentorToken(db, found.id).then(
            (token) => res.status(201).json({ mentor: found, token }),
            (e: unknown) => next(e),
          );
        },
      )(req, res, next);
    },
  );

  router.delete('/mentor/session', mentor, async (req, res) => {
    const token = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
    if (token) await revokeMentorToken(db, token);
    res.status(204).end();
  });

  /** A mentor creates another mentor's account (then adds them to a cohort). */
  router.post('/mentors', mentor, json, async (req, res) => {
    const email = textField(req.body, 'email', 320);
    const password = textField(req.body, 'password', 1000);
    if (!/^[^@\s]+@[^@\s]+$/.test(email))
      throw new CohortError(400, 'VALIDATION_FAILED', `"${email}" is not an email address`);
    if (password.length < MIN_PASSWORD_LENGTH)
      throw new CohortError(
        400,
        'VALIDATION_FAILED',
        `the password needs at least ${MIN_PASSWORD_LENGTH} characters`,
      );
    if (await findMentorByEmail(db, email))
      throw new CohortError(409, 'EMAIL_TAKEN', 'a mentor with this email exists already');
    const created = await createMentor(db, {
      email,
      name: textField(req.body, 'name', 200),
      password,
    });
    res.status(201).json({ mentor: created });
  });

  router.get('/mentor/me', mentor, (_req, res) => {
    res.json({ mentor: mentorOf(res) });
  });

  router.get('/cohorts', mentor, async (_req, res) => {
    res.json({ cohorts: await cohortsOfMentor(db, mentorOf(res).id) });
  });

  router.post('/cohorts', mentor, json, async (req, res) => {
    const cohort = await createCohort(db, textField(req.body, 'name', 200), mentorOf(res).id);
    res.status(201).json({ cohort });
  });

  /** The cohort when the signed-in mentor belongs to it; 404 otherwise (also for cohorts that exist). */
  const myCohort = async (req: Request, res: Response): Promise<Cohort> => {
    const cohort = await cohortOfMentor(db, mentorOf(res).id, idParam(req, 'cohortId', 'cohort'));
    if (!cohort) throw notFound('no such cohort');
    return cohort;
  };
  const myLearner = async (req: Request, res: Response) => {
    const cohort = await myCohort(req, res);
    const learner = await learnerInCohort(db, cohort.id, idParam(req, 'learnerId', 'learner'));
    if (!learner) throw notFound('no such learner');
    return { cohort, learner };
  };

  router.get('/cohorts/:cohortId', mentor, async (req, res) => {
    const cohort = await myCohort(req, res);
    res.json({ cohort, mentors: await mentorsOfCohort(db, cohort.id) });
  });

  /** Closes the invite code: learners who joined stay, nobody joins with it any more. */
  router.delete('/cohorts/:cohortId/invite', mentor, async (req, res) => {
    const cohort = await myCohort(req, res);
    res.json({ cohort: await setInvite(db, cohort.id, false) });
  });

  /** Opens the cohort again with a fresh invite code (the old one stays refused). */
  router.post('/cohorts/:cohortId/invite', mentor, async (req, res) => {
    const cohort = await myCohort(req, res);
    res.status(201).json({ cohort: await setInvite(db, cohort.id, true) });
  });

  router.post('/cohorts/:cohortId/mentors', mentor, json, async (req, res) => {
    const cohort = await myCohort(req, res);
    const other = await findMentorByEmail(db, textField(req.body, 'email', 320));
    if (!other) throw notFound('no mentor has this email: create the account first');
    await addMentorToCohort(db, cohort.id, other.id);
    res.status(201).json({ mentors: await mentorsOfCohort(db, cohort.id) });
  });

  router.get('/cohorts/:cohortId/learners', mentor, async (req, res) => {
    const cohort = await myCohort(req, res);
    res.json({ learners: await learnersOfCohort(db, cohort.id) });
  });

  router.get('/cohorts/:cohortId/grid', mentor, async (req, res) => {
    const cohort = await myCohort(req, res);
    res.json({ steps: deps.steps, learners: await cohortGrid(db, cohort.id) });
  });

  router.get('/cohorts/:cohortId/export.csv', mentor, async (req, res) => {
    const cohort = await myCohort(req, res);
    res
      .type('text/csv')
      .attachment(`${cohort.name.replace(/[^\w.-]+/g, '_')}-grid.csv`)
      .send(gridCsv(deps.steps, await cohortGrid(db, cohort.id)));
  });

  router.get('/cohorts/:cohortId/learners/:learnerId/attempts', mentor, async (req, res) => {
    const { learner } = await myLearner(req, res);
    res.json({ learner, attempts: await attemptsOfLearner(db, learner.id) });
  });

  router.get('/cohorts/:cohortId/learners/:learnerId/gradescope.json', mentor, async (req, res) => {
    const { learner } = await myLearner(req, res);
    const latest = await latestResultOfLearner(db, learner.id);
    if (!latest) throw notFound('this learner has no graded submission yet');
    res.type('application/json').send(formatGradescope(latest.result));
  });

  router.get('/cohorts/:cohortId/learners/:learnerId/notes', mentor, async (req, res) => {
    const { learner } = await myLearner(req, res);
    res.json({ notes: await notesOfLearner(db, learner.id) });
  });

  router.post('/cohorts/:cohortId/learners/:learnerId/notes', mentor, json, async (req, res) => {
    const { cohort, learner } = await myLearner(req, res);
    const step = optionalTextField(req.body, 'step', 64);
    if (step && !deps.steps.some((s) => s.slug === step))
      throw notFound(
        `no step "${step}": use a slug such as ${deps.steps[0]?.slug ?? 'hello-server'}`,
      );
    const note = await createNote(db, {
      cohortId: cohort.id,
      learnerId: learner.id,
      mentorId: mentorOf(res).id,
      step,
      message: textField(req.body, 'message', 5000),
    });
    res.status(201).json({ note });
  });

  router.get('/cohorts/:cohortId/submissions/:submissionId', mentor, async (req, res) => {
    const cohort = await myCohort(req, res);
    const submission = await submissionById(db, idParam(req, 'submissionId', 'submission'));
    if (!submission || submission.cohortId !== cohort.id) throw notFound('no such submission');
    const [stored, checks, files] = await Promise.all([
      resultOf(db, submission.id),
      checksOfSubmission(db, submission.id),
      filesOfSubmission(db, submission.id),
    ]);
    res.json({ submission, result: stored ?? null, checks, files });
  });

  return router;
}
