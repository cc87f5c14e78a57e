import { Router } from 'express';
import { cohortOfMentor } from '../store/cohorts.repository';
import { eventsSince, lastEventId } from '../store/events.repository';
import { mentorOf, requireMentor } from './auth';
import type { CohortDeps } from './deps';
import { notFound } from './errors';
import { idParam } from './params';

/**
 * GET /api/cohorts/:cohortId/events: the cohort's events as server-sent events (`id:` is the
 * event id, `event:` its type, `data:` the JSON event). Reconnecting with Last-Event-ID (or
 * ?after=ID) resumes after that event; without it, the stream starts with what happens next.
 */
export function eventRoutes(deps: CohortDeps): Router {
  const { db } = deps;
  const router = Router();
  router.get('/cohorts/:cohortId/events', requireMentor(db), async (req, res) => {
    const cohort = await cohortOfMentor(db, mentorOf(res).id, idParam(req, 'cohortId', 'cohort'));
    if (!cohort) throw notFound('no such cohort');
    const resumeFrom =
      req.get('last-event-id') ??
      (typeof req.query['after'] === 'string' ? req.query['after'] : undefined);
    let after =
      resumeFrom && /^\d+$/.test(resumeFrom) ? resumeFrom : await lastEventId(db, cohort.id);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    // A comment line ends at the first line break: a cohort name with one could forge events.
    res.write(`retry: 2000\n: connected to ${JSON.stringify(cohort.name)}\n\n`);
    let closed = false;
    let polling = false;
    const poll = async (): Promise<void> => {
      if (closed || polling) return;
      polling = true;
      try {
        for (const event of await eventsSince(db, cohort.id, after)) {
          res.write(`id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
          after = event.id;
        }
      } catch {
        // Postgres restarting: the stream stays open and catches up once it is back.
      } finally {
        polling = false;
      }
    };
    const timer = setInterval(() => void poll(), deps.eventPollMs ?? 300);
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    req.on('close', () => {
      closed = true;
      clearInterval(timer);
      clearInterval(keepAlive);
    });
  });
  return router;
}
