import express, { type Express } from 'express';
import type { Deps } from './deps';
import { healthRoutes } from './health/health.routes';
import { errorHandler, notFoundHandler } from './lib/errors';
import { requestId } from './lib/request-id';

/** Builds the Express app from its dependencies; never listens, never connects. */
export function createApp(deps: Deps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

  app.use(requestId);
  app.use(express.json());

  app.use(healthRoutes(deps));

  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}
