import { createHash } from 'node:crypto';
import express, { Router } from 'express';
import { ArchiveError } from '../archive/limits';
import { readArchive } from '../archive/read-archive';
import { cohortByInviteCode } from '../store/cohorts.repository';
import { recordEvent } from '../store/events.repository';
import { deliverNotes, markNoteRead } from '../store/feedback.repository';
import { createLearner, NameTakenError } from '../store/learners.repository';
import { resultOf } from '../store/results.repository';
import {
  storeSubmission,
  submissionOfLearner,
  waitingOfLearner,
} from '../store/submissions.repository';
import { learnerOf, requireLearner } from './auth';
import type { CohortDeps } from './deps';
import { badRequest, CohortError, notFound } from './errors';
import { idParam, textField } from './params';

/** Server-Timing entries: each phase's duration since the previous mark. */
class ServerTiming {
  private readonly parts: string[] = [];
  constructor(private last: number) {}
  mark(name: string, at = performance.now()): void {
    this.parts.push(`${name};dur=${(at - this.last).toFixed(1)}`);
    this.last = at;
  }
  header(): string {
    return this.parts.join(', ');
  }
}

/** What learners call (`sandbox join`, `sandbox submit`): join with a code, submit, follow a submission, fetch notes. */
export function learnerRoutes(deps: CohortDeps): Router {
  const { db } = deps;
  const router = Router();
  const learner = requireLearner(db);

  router.post('/join', express.json({ limit: '16kb' }), async (req, res) => {
    const code = textField(req.body, 'code', 64);
    const name = textField(req.body, 'name', 100);
    const cohort = await cohortByInviteCode(db, code);
    if (!cohort || !cohort.inviteOpen)
      throw notFound('no cohort has this invite code: check it with your mentor');
    try {
      const joined = await createLearner(db, cohort.id, name);
      await recordEvent(db, {
        cohortId: cohort.id,
        learnerId: joined.learner.id,
        type: 'learner.joined',
        payload: { name: joined.learner.name },
      });
      res.status(201).json({
        learner: joined.learner,
        cohort: { id: cohort.id, name: cohort.name },
        token: joined.token,
      });
    } catch (e) {
      if (e instanceof NameTakenError)
        throw new CohortError(
          409,
          'NAME_TAKEN',
          `"${name}" is already in this cohort: join with another name`,
        );
      throw e;
    }
  });

  router.get('/me', learner, (_req, res) => {
    res.json({ learner: learnerOf(res) });
  });

  router.post(
    '/submissions',
    (_req, res, next) => {
      res.locals['receivedAt'] = performance.now();
      next();
    },
    learner,
    (_req, res, next) => {
      res.locals['authenticatedAt'] = performance.now();
      next();
    },
    express.raw({ type: () => true, limit: deps.limits.maxArchiveBytes }),
    async (req, res) => {
      const me = learnerOf(res);
      const timing = new ServerTiming(res.locals['receivedAt'] as number);
      timing.mark('auth', res.locals['authenticatedAt'] as number);
      timing.mark('body');
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const claimed = req.get('x-sandbox-sha256')?.toLowerCase();
      if (!claimed || !/^[0-9a-f]{64}$/.test(claimed))
        throw badRequest(
          'SHA256_MISSING',
          "send the archive's sha256 (64 hex digits) in X-Sandbox-Sha256",
        );
      const actual = createHash('sha256').update(body).digest('hex');
      if (actual !== claimed)
        throw badRequest(
          'SHA256_MISMATCH',
          `the body's sha256 is ${actual}, not the ${claimed} announced: the upload was damaged`,
        );
      const upToStep = stepHeader(req.get('x-sandbox-step'), deps.steps.length);
      let files;
      try {
        files = await readArchive(body, deps.limits);
      } catch (e) {
        if (e instanceof ArchiveError) throw new CohortError(e.status, e.code, e.message);
        throw e;
      }
      timing.mark('check');
      const { submission, duplicate, waiting } = await storeSubmission(db, {
        learnerId: me.id,
        cohortId: me.cohortId,
        sha256: actual,
        upToStep,
        archive: body,
        files: files.map((f) => ({ path: f.path, sha256: f.sha256, size: f.data.length })),
      });
      timing.mark('store');
      if (!duplicate) {
        // Stored first: when Redis is down the reconciler queues it later, the 202 still holds.
        await deps.queue
          .enqueue(
            { submissionId: submission.id, learnerId: me.id },
            waiting ?? (await waitingOfLearner(db, me.id)) - 1,
          )
          .catch((e: unknown) =>
            deps.log(`queueing ${submission.id} failed (the reconciler will retry): ${String(e)}`),
          );
      }
      timing.mark('queue');
      // Where an upload's time goes on the service (bench:cohort reads it): auth, body, check, store, queue.
      res.set('server-timing', timing.header());
      res.status(duplicate ? 200 : 202).json({ submission, duplicate });
    },
  );

  router.get('/submissions/:id', learner, async (req, res) => {
    const me = learnerOf(res);
    const submission = await submissionOfLearner(db, me.id, idParam(req, 'id', 'submission'));
    if (!submission) throw notFound('no such submission');
    const stored = await resultOf(db, submission.id);
    res.json({ submission, result: stored?.result ?? null, exitCode: stored?.exitCode ?? null });
  });

  router.get('/feedback', learner, async (_req, res) => {
    res.json({ notes: await deliverNotes(db, learnerOf(res)) });
  });

  router.post('/feedback/:id/read', learner, async (req, res) => {
    if (!(await markNoteRead(db, learnerOf(res), idParam(req, 'id', 'note'))))
      throw notFound('no such note');
    res.status(204).end();
  });

  return router;
}

function stepHeader(value: string | undefined, steps: number): number | null {
  if (value === undefined || value === '') return null;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > steps)
    throw badRequest(
      'VALIDATION_FAILED',
      `X-Sandbox-Step must be a step number from 1 to ${steps}`,
    );
  return n;
}
