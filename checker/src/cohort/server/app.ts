import express, { type Express } from 'express';
import { dashboardRoutes } from '../dashboard';
import { createPassport } from './auth';
import type { CohortDeps } from './deps';
import { errorHandler, notFoundHandler } from './errors';
import { eventRoutes } from './events.routes';
import { learnerRoutes } from './learner.routes';
import { mentorRoutes } from './mentor.routes';

/** The cohort service's Express app; never listens (see start.ts). The API is described in docs/cohort-api.md. */
export function createCohortApp(deps: CohortDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  const auth = createPassport(deps.db);
  app.use(auth.initialize());

  app.get('/health', async (_req, res) => {
    const [database, queue] = await Promise.all([
      deps.db.raw('select 1').then(
        () => 'up' as const,
        () => 'down' as const,
      ),
      deps.queue.counts().then(
        () => 'up' as const,
        () => 'down' as const,
      ),
    ]);
    const ok = database === 'up';
    // Redis down is degraded, not down: submissions are still accepted (stored, queued later).
    res
      .status(ok ? 200 : 503)
      .json({ status: ok ? 'ok' : 'down', checks: { database, redis: queue } });
  });

  app.use('/api', learnerRoutes(deps));
  app.use('/api', mentorRoutes(deps, auth));
  app.use('/api', eventRoutes(deps));
  // The mentor dashboard's HTML pages under /dashboard (checker/src/cohort/dashboard/, docs/mentor.md).
  app.use(dashboardRoutes(deps, auth));
  app.use(notFoundHandler);
  app.use(errorHandler(deps.log));
  return app;
}
