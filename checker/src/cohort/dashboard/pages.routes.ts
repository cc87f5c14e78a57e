import { Router, type Request } from 'express';
import { formatGradescope } from '../../reporters/gradescope';
import type { CohortDeps } from '../server/deps';
import { gridCsv } from '../server/csv';
import { CohortError } from '../server/errors';
import { idParam } from '../server/params';
import {
  cohortOfMentor,
  cohortsOfMentor,
  createCohort,
  setInvite,
  type Cohort,
} from '../store/cohorts.repository';
import { learnerCounts } from '../store/dashboard.repository';
import { createNote } from '../store/feedback.repository';
import { cohortGrid, latestResultOfLearner } from '../store/grid.repository';
import { learnerInCohort, type Learner } from '../store/learners.repository';
import type { Mentor } from '../store/mentors.repository';
import { loadGrid, parseGridQuery } from './grid.model';
import { loadHard } from './hard.model';
import { loadLearner } from './learner.model';
import { html } from './html';
import { sendHtml } from './send';
import { cohortsPage } from './views/cohorts';
import { gridPage, learnerRow } from './views/grid';
import { hardPage } from './views/hard';
import { learnerPage } from './views/learner';

const mentorOf = (req: Request): Mentor => (req as Request & { user: Mentor }).user;
const notFound = (what: string): CohortError => new CohortError(404, 'NOT_FOUND', what);
const field = (req: Request, name: string): string => {
  const value: unknown = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value.trim() : '';
};

/** The dashboard's pages (signed-in mentors only; a cohort they do not mentor is a 404). */
export function pageRoutes(deps: CohortDeps, csrfToken: (req: Request) => string): Router {
  const { db, steps } = deps;
  const router = Router();

  const myCohort = async (req: Request): Promise<Cohort> => {
    const cohort = await cohortOfMentor(db, mentorOf(req).id, idParam(req, 'cohortId', 'cohort'));
    if (!cohort) throw notFound('You do not mentor this cohort, or it does not exist.');
    return cohort;
  };
  const myLearner = async (req: Request): Promise<{ cohort: Cohort; learner: Learner }> => {
    const cohort = await myCohort(req);
    const learner = await learnerInCohort(db, cohort.id, idParam(req, 'learnerId', 'learner'));
    if (!learner) throw notFound('This cohort has no such learner.');
    return { cohort, learner };
  };
  const common = (req: Request) => ({ mentor: mentorOf(req), csrfToken: csrfToken(req) });

  const renderCohorts = async (req: Request, error?: string): Promise<string> => {
    const cohorts = await cohortsOfMentor(db, mentorOf(req).id);
    const counts = await learnerCounts(
      db,
      cohorts.map((c) => c.id),
    );
    return cohortsPage({
      ...common(req),
      cohorts: cohorts.map((c) => ({ ...c, learners: counts.get(c.id) ?? 0 })),
      publicUrl: `${req.protocol}://${req.get('host') ?? 'localhost'}`,
      ...(error ? { error } : {}),
    });
  };

  router.get('/', async (req, res) => {
    sendHtml(res, await renderCohorts(req));
  });

  router.post('/cohorts', async (req, res) => {
    const name = field(req, 'name');
    if (!name || name.length > 200)
      return void res
        .status(400)
        .type('html')
        .send(await renderCohorts(req, 'A cohort needs a name of 1 to 200 characters.'));
    const cohort = await createCohort(db, name, mentorOf(req).id);
    res.redirect(303, `/dashboard/cohorts/${cohort.id}`);
  });

  router.get('/cohorts/:cohortId', async (req, res) => {
    const cohort = await myCohort(req);
    const query = parseGridQuery(req.query as Record<string, unknown>);
    const now = Date.now();
    const grid = await loadGrid(db, cohort.id, steps, query, now);
    sendHtml(res, gridPage({ ...common(req), cohort, grid, query, now }));
  });

  // Live updates of the grid: just these learners' rows (<tr>s in a <table>), with the page's sort and filter.
  router.get('/cohorts/:cohortId/rows', async (req, res) => {
    const cohort = await myCohort(req);
    const asked = ([] as unknown[]).concat(req.query['learner'] ?? []);
    const only = asked.filter(
      (id): id is string => typeof id === 'string' && /^[0-9a-f-]{36}$/i.test(id),
    );
    const query = parseGridQuery(req.query as Record<string, unknown>);
    const now = Date.now();
    const grid = await loadGrid(db, cohort.id, steps, query, now, only.slice(0, 50));
    sendHtml(
      res,
      html`<table>
        <tbody>
          ${grid.lines.map((l) => learnerRow(cohort.id, steps, l, now))}
        </tbody>
      </table>`.value,
    );
  });

  // Close the invite code (nobody joins with it any more), or open the cohort again with a fresh code.
  router.post('/cohorts/:cohortId/invite', async (req, res) => {
    const cohort = await myCohort(req);
    const state = field(req, 'state');
    if (state !== 'open' && state !== 'closed')
      throw new CohortError(400, 'VALIDATION_FAILED', 'The invite is either open or closed.');
    await setInvite(db, cohort.id, state === 'open');
    res.redirect(303, `/dashboard/cohorts/${cohort.id}`);
  });

  router.get('/cohorts/:cohortId/export.csv', async (req, res) => {
    const cohort = await myCohort(req);
    res
      .type('text/csv')
      .attachment(`${cohort.name.replace(/[^\w.-]+/g, '_')}-grid.csv`)
      .send(gridCsv(steps, await cohortGrid(db, cohort.id)));
  });

  router.get('/cohorts/:cohortId/hard', async (req, res) => {
    const cohort = await myCohort(req);
    const now = Date.now();
    const hard = await loadHard(db, cohort.id, steps, now);
    sendHtml(res, hardPage({ ...common(req), cohort, hard, now }));
  });

  router.get('/cohorts/:cohortId/learners/:learnerId', async (req, res) => {
    const { cohort, learner } = await myLearner(req);
    const now = Date.now();
    const model = await loadLearner(db, learner, req.query as Record<string, unknown>);
    sendHtml(res, learnerPage({ ...common(req), cohort, learner, model, steps, now }));
  });

  router.post('/cohorts/:cohortId/learners/:learnerId/notes', async (req, res) => {
    const { cohort, learner } = await myLearner(req);
    const message = field(req, 'message');
    const step = field(req, 'step') || null;
    const back = `/dashboard/cohorts/${cohort.id}/learners/${learner.id}`;
    if (!message || message.length > 5000 || (step && !steps.some((s) => s.slug === step)))
      throw new CohortError(
        400,
        'VALIDATION_FAILED',
        "A note needs a message of 1 to 5,000 characters and, optionally, one of the course's steps.",
      );
    await createNote(db, {
      cohortId: cohort.id,
      learnerId: learner.id,
      mentorId: mentorOf(req).id,
      step,
      message,
    });
    res.redirect(303, `${back}#notes`);
  });

  router.get('/cohorts/:cohortId/learners/:learnerId/gradescope.json', async (req, res) => {
    const { learner } = await myLearner(req);
    const latest = await latestResultOfLearner(db, learner.id);
    if (!latest) throw notFound('This learner has no graded submission yet.');
    res
      .type('application/json')
      .attachment(`${learner.name.replace(/[^\w.-]+/g, '_')}-results.json`)
      .send(formatGradescope(latest.result));
  });

  return router;
}
