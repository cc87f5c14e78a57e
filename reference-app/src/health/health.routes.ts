import { Router } from 'express';
import type { Deps } from '../deps';
import { pingDb } from '../lib/db';

const DB_TIMEOUT_MS = 1000;

export function healthRoutes({ db, redis }: Pick<Deps, 'db' | 'redis'>): Router {
  const router = Router();
  router.get('/health', async (_req, res) => {
    const [databaseUp, redisUp] = await Promise.all([
      pingDb(db, DB_TIMEOUT_MS),
      redis.ping().then(
        () => true,
        () => false,
      ),
    ]);
    // Redis is reported but does not fail the check: the app serves without its cache.
    res.status(databaseUp ? 200 : 503).json({
      status: databaseUp ? 'ok' : 'error',
      checks: { database: databaseUp ? 'up' : 'down', redis: redisUp ? 'up' : 'down' },
    });
  });
  return router;
}
