import { createHash, randomBytes } from 'node:crypto';
import { startCohortService } from '../../src/cohort/server/start';
import type { RunResult } from '../../src/results/types';
import { recordResult } from '../../src/cohort/store/results.repository';
import { submissionById } from '../../src/cohort/store/submissions.repository';
import { rawTarGz } from './support/tar-builder';
import {
  joinAs,
  json,
  mentorWithCohort,
  REDIS_URL,
  startTestService,
  type TestService,
} from './support/service';

// Every authorization boundary of the cohort API, against a real service on the machine's
// Postgres and Redis (about 3 s on a quiet machine; bcrypt cost 12 for each mentor).
jest.setTimeout(60_000);
let service: TestService;
let a: Awaited<ReturnType<typeof mentorWithCohort>>;
let b: Awaited<ReturnType<typeof mentorWithCohort>>;
let ada: { token: string; learnerId: string };
let bob: { token: string; learnerId: string };
let adaSubmission: string;

const archive = rawTarGz([{ name: 'package.json', data: '{"scripts":{"start":"node index.js"}}' }]);
const sha = createHash('sha256').update(archive).digest('hex');

function passingResult(): RunResult {
  return {
    schemaVersion: 1,
    status: 'fail',
    score: 2,
    maxScore: 13,
    workspace: 'w',
    startedAt: new Date().toISOString(),
    durationMs: 1,
    services: 'local',
    runtime: { kind: 'container', contained: true },
    steps: [
      {
        number: 1,
        slug: 'hello-server',
        title: 'Hello',
        status: 'fail',
        score: 2,
        maxScore: 13,
        checks: [
          {
            name: 'health',
            status: 'pass',
            points: 2,
            maxPoints: 2,
            message: '',
            hint: '',
            durationMs: 1,
          },
          {
            name: '404',
            status: 'fail',
            points: 0,
            maxPoints: 11,
            message: 'got 200',
            hint: 'add a handler',
            durationMs: 1,
            details: { summary: 'x', logs: 'app log line' },
          },
        ],
      },
    ],
  };
}

beforeAll(async () => {
  service = await startTestService();
  a = await mentorWithCohort(service, 'A');
  b = await mentorWithCohort(service, 'B');
  ada = await joinAs(service, a.inviteCode, 'ada');
  bob = await joinAs(service, a.inviteCode, 'bob');
  const r = await json<{ submission: { id: string } }>(service.url, 'POST', '/api/submissions', {
    token: ada.token,
    raw: archive,
    headers: { 'x-sandbox-sha256': sha, 'x-sandbox-step': '1' },
  });
  expect(r.status).toBe(202);
  adaSubmission = r.body.submission.id;
});
afterAll(async () => service?.dispose());

const errorOf = (body: unknown): { code: string; message: string } =>
  (body as { error: { code: string; message: string } }).error;

describe('learner routes', () => {
  it.each([
    ['no token', undefined],
    ['a made-up learner token', 'sbl_not-a-real-token'],
    ['a mentor token', 'MENTOR'],
  ])('with %s, GET /api/me is 401 in the JSON error shape', async (_what, token) => {
    const r = await json(
      service.url,
      'GET',
      '/api/me',
      token ? { token: token === 'MENTOR' ? a.token : token } : {},
    );
    expect(r.status).toBe(401);
    expect(errorOf(r.body).code).toBe('UNAUTHORIZED');
    expect(errorOf(r.body).message).toEqual(expect.any(String));
  });

  it("another learner's submission is 404, their own is 200", async () => {
    const other = await json(service.url, 'GET', `/api/submissions/${adaSubmission}`, {
      token: bob.token,
    });
    expect(other.status).toBe(404);
    expect(errorOf(other.body).code).toBe('NOT_FOUND');
    const own = await json<{ submission: { id: string; status: string } }>(
      service.url,
      'GET',
      `/api/submissions/${adaSubmission}`,
      { token: ada.token },
    );
    expect(own.status).toBe(200);
    expect(own.body.submission.id).toBe(adaSubmission);
  });

  it('a submission id that is not a uuid is 404, not 500', async () => {
    const r = await json(service.url, 'GET', '/api/submissions/1%20or%201=1', { token: ada.token });
    expect(r.status).toBe(404);
  });

  it('an unknown invite code is 404 and a taken name 409', async () => {
    expect(
      (await json(service.url, 'POST', '/api/join', { body: { code: 'NOPE0-NOPE0', name: 'x' } }))
        .status,
    ).toBe(404);
    const taken = await json(service.url, 'POST', '/api/join', {
      body: { code: a.inviteCode, name: 'ada' },
    });
    expect(taken.status).toBe(409);
    expect(errorOf(taken.body).code).toBe('NAME_TAKEN');
  });

  it('learner tokens open no mentor route', async () => {
    for (const route of [
      '/api/cohorts',
      `/api/cohorts/${a.cohortId}/grid`,
      `/api/cohorts/${a.cohortId}/events`,
    ])
      expect((await json(service.url, 'GET', route, { token: ada.token })).status).toBe(401);
  });
});

describe('mentor routes', () => {
  it('a wrong password and an unknown email are the same 401', async () => {
    const wrong = await json(service.url, 'POST', '/api/mentor/session', {
      body: { email: 'nobody@example.com', password: 'whatever-long' },
    });
    expect(wrong.status).toBe(401);
    expect(errorOf(wrong.body).code).toBe('UNAUTHORIZED');
  });

  it('failed sign-ins are limited across service processes: the sixth is 429 RATE_LIMITED with Retry-After, on either', async () => {
    // A second `sandbox serve` process on the same Postgres and Redis (behind one load balancer).
    const other = await startCohortService({
      databaseUrl: service.databaseUrl,
      redisUrl: REDIS_URL,
      port: 0,
      host: '127.0.0.1',
      queuePrefix: service.queuePrefix,
      log: () => undefined,
    });
    try {
      const email = `limited-${randomBytes(4).toString('hex')}@example.com`;
      const attempt = (url: string) =>
        json(url, 'POST', '/api/mentor/session', { body: { email, password: 'wrong-password-1' } });
      const statuses: number[] = [];
      for (const url of [service.url, other.url, service.url, other.url, service.url])
        statuses.push((await attempt(url)).status);
      const limited = await attempt(other.url);
      expect([...statuses, limited.status]).toEqual([401, 401, 401, 401, 401, 429]);
      expect(errorOf(limited.body).code).toBe('RATE_LIMITED');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await attempt(service.url)).status).toBe(429);
      // Another email from the same address still signs in (the per-address limit is wider).
      const signedIn = await json(service.url, 'POST', '/api/mentor/session', {
        body: { email: a.email, password: 'correct-horse-battery' },
      });
      expect(signedIn.status).toBe(201);
    } finally {
      await other.stop();
    }
  });

  it('a mentor sees only their cohorts: every route of another cohort is 404', async () => {
    const list = await json<{ cohorts: { id: string }[] }>(service.url, 'GET', '/api/cohorts', {
      token: b.token,
    });
    expect(list.body.cohorts.map((c) => c.id)).toEqual([b.cohortId]);
    const routes = [
      ['GET', `/api/cohorts/${a.cohortId}`],
      ['GET', `/api/cohorts/${a.cohortId}/learners`],
      ['GET', `/api/cohorts/${a.cohortId}/grid`],
      ['GET', `/api/cohorts/${a.cohortId}/export.csv`],
      ['GET', `/api/cohorts/${a.cohortId}/events`],
      ['GET', `/api/cohorts/${a.cohortId}/learners/${ada.learnerId}/attempts`],
      ['GET', `/api/cohorts/${a.cohortId}/learners/${ada.learnerId}/notes`],
      ['GET', `/api/cohorts/${a.cohortId}/learners/${ada.learnerId}/gradescope.json`],
      ['GET', `/api/cohorts/${a.cohortId}/submissions/${adaSubmission}`],
      ['POST', `/api/cohorts/${a.cohortId}/mentors`],
      ['DELETE', `/api/cohorts/${a.cohortId}/invite`],
      ['POST', `/api/cohorts/${a.cohortId}/invite`],
      ['POST', `/api/cohorts/${a.cohortId}/learners/${ada.learnerId}/notes`],
    ] as const;
    for (const [method, route] of routes) {
      const r = await json(service.url, method, route, {
        token: b.token,
        ...(method === 'POST' ? { body: { message: 'hi', email: 'x@example.com' } } : {}),
      });
      expect([route, r.status]).toEqual([route, 404]);
    }
  });

  it('a closed invite code lets nobody join; reopening gives a fresh code and the old one stays closed', async () => {
    const c = await mentorWithCohort(service, 'Closing');
    await joinAs(service, c.inviteCode, 'early');
    const closed = await json<{ cohort: { inviteOpen: boolean; inviteCode: string } }>(
      service.url,
      'DELETE',
      `/api/cohorts/${c.cohortId}/invite`,
      { token: c.token },
    );
    expect([closed.status, closed.body.cohort.inviteOpen]).toEqual([200, false]);
    const late = await json(service.url, 'POST', '/api/join', {
      body: { code: c.inviteCode, name: 'late' },
    });
    expect([late.status, errorOf(late.body).code]).toEqual([404, 'NOT_FOUND']);
    const reopened = await json<{ cohort: { inviteOpen: boolean; inviteCode: string } }>(
      service.url,
      'POST',
      `/api/cohorts/${c.cohortId}/invite`,
      { token: c.token },
    );
    expect([reopened.status, reopened.body.cohort.inviteOpen]).toEqual([201, true]);
    expect(reopened.body.cohort.inviteCode).not.toBe(c.inviteCode);
    expect(
      (await json(service.url, 'POST', '/api/join', { body: { code: c.inviteCode, name: 'late' } }))
        .status,
    ).toBe(404);
    await joinAs(service, reopened.body.cohort.inviteCode, 'late');
    const learners = await json<{ learners: { name: string }[] }>(
      service.url,
      'GET',
      `/api/cohorts/${c.cohortId}/learners`,
      { token: c.token },
    );
    expect(learners.body.learners.map((l) => l.name).sort()).toEqual(['early', 'late']);
  });

  it("a learner of cohort A seen through cohort B's path is 404", async () => {
    const r = await json(
      service.url,
      'GET',
      `/api/cohorts/${b.cohortId}/learners/${ada.learnerId}/attempts`,
      { token: b.token },
    );
    expect(r.status).toBe(404);
  });

  it('the grid, attempts and exports show the stored result with its failing checks', async () => {
    const submission = await submissionById(service.db, adaSubmission);
    expect(
      await recordResult(service.db, submission!, passingResult(), {
        worker: 't',
        exitCode: 1,
        runtime: 'container',
        contained: true,
        durationMs: 5,
      }),
    ).toBe(true);
    // Exactly one result per submission: a second recording changes nothing.
    expect(
      await recordResult(service.db, submission!, passingResult(), {
        worker: 'u',
        exitCode: 1,
        runtime: 'container',
        contained: true,
        durationMs: 5,
      }),
    ).toBe(false);
    const grid = await json<{
      learners: { name: string; cells: Record<string, { status: string; score: number }> }[];
    }>(service.url, 'GET', `/api/cohorts/${a.cohortId}/grid`, { token: a.token });
    expect(
      grid.body.learners.map((l) => [l.name, l.cells['hello-server']?.status ?? null]),
    ).toEqual([
      ['ada', 'fail'],
      ['bob', null],
    ]);
    const attempts = await json<{
      attempts: {
        failingChecks: { name: string; logExcerpt: string | null }[];
        result: { worker: string };
      }[];
    }>(service.url, 'GET', `/api/cohorts/${a.cohortId}/learners/${ada.learnerId}/attempts`, {
      token: a.token,
    });
    expect(attempts.body.attempts[0]!.result.worker).toBe('t');
    expect(attempts.body.attempts[0]!.failingChecks).toEqual([
      expect.objectContaining({ name: '404', logExcerpt: 'app log line' }),
    ]);
    const csv = await json<string>(service.url, 'GET', `/api/cohorts/${a.cohortId}/export.csv`, {
      token: a.token,
    });
    expect(csv.body.split('\r\n')[1]).toMatch(/^ada,.*,fail,2\/13,/);
    const gradescope = await json<{ score: number }>(
      service.url,
      'GET',
      `/api/cohorts/${a.cohortId}/learners/${ada.learnerId}/gradescope.json`,
      { token: a.token },
    );
    expect(gradescope.status).toBe(200);
    expect(gradescope.body.score).toBe(2);
  });

  it('a note reaches its learner only, and is marked received', async () => {
    const note = await json<{ note: { id: string } }>(
      service.url,
      'POST',
      `/api/cohorts/${a.cohortId}/learners/${ada.learnerId}/notes`,
      {
        token: a.token,
        body: { message: 'Nice 404 handler', step: 'hello-server' },
      },
    );
    expect(note.status).toBe(201);
    expect(
      (await json<{ notes: unknown[] }>(service.url, 'GET', '/api/feedback', { token: bob.token }))
        .body.notes,
    ).toEqual([]);
    const mine = await json<{ notes: { message: string; author: string }[] }>(
      service.url,
      'GET',
      '/api/feedback',
      { token: ada.token },
    );
    expect(mine.body.notes).toEqual([
      expect.objectContaining({ message: 'Nice 404 handler', author: 'Mentor 1' }),
    ]);
    expect(
      (
        await json(service.url, 'POST', `/api/feedback/${note.body.note.id}/read`, {
          token: bob.token,
        })
      ).status,
    ).toBe(404);
    const seen = await json<{ notes: { receivedAt: string | null }[] }>(
      service.url,
      'GET',
      `/api/cohorts/${a.cohortId}/learners/${ada.learnerId}/notes`,
      { token: a.token },
    );
    expect(seen.body.notes[0]!.receivedAt).toEqual(expect.any(String));
  });

  it('a mentor creates another mentor, who signs in and sees none of the cohorts until added', async () => {
    const email = `colleague-${Date.now()}@example.com`;
    const body = { email, name: 'Colleague', password: 'a-long-password-1' };
    expect(
      (await json(service.url, 'POST', '/api/mentors', { token: ada.token, body })).status,
    ).toBe(401);
    expect(
      (
        await json(service.url, 'POST', '/api/mentors', {
          token: a.token,
          body: { ...body, password: 'short' },
        })
      ).status,
    ).toBe(400);
    expect((await json(service.url, 'POST', '/api/mentors', { token: a.token, body })).status).toBe(
      201,
    );
    expect((await json(service.url, 'POST', '/api/mentors', { token: a.token, body })).status).toBe(
      409,
    );
    const session = await json<{ token: string }>(service.url, 'POST', '/api/mentor/session', {
      body: { email, password: body.password },
    });
    expect(session.status).toBe(201);
    const before = await json<{ cohorts: unknown[] }>(service.url, 'GET', '/api/cohorts', {
      token: session.body.token,
    });
    expect(before.body.cohorts).toEqual([]);
    expect(
      (
        await json(service.url, 'POST', `/api/cohorts/${a.cohortId}/mentors`, {
          token: a.token,
          body: { email },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await json(service.url, 'GET', `/api/cohorts/${a.cohortId}/grid`, {
          token: session.body.token,
        })
      ).status,
    ).toBe(200);
  });

  it('without a session, a dashboard page redirects to sign-in and its event stream is 401 JSON', async () => {
    const page = await fetch(`${service.url}/dashboard/cohorts/${a.cohortId}`, {
      headers: { accept: 'text/html,application/xhtml+xml' },
      redirect: 'manual',
    });
    expect([page.status, page.headers.get('location')]).toEqual([
      303,
      `/dashboard/login?next=${encodeURIComponent(`/dashboard/cohorts/${a.cohortId}`)}`,
    ]);
    const stream = await json(service.url, 'GET', `/dashboard/live/cohorts/${a.cohortId}/events`, {
      headers: { accept: 'text/event-stream' },
    });
    expect([stream.status, errorOf(stream.body).code]).toEqual([401, 'UNAUTHORIZED']);
    expect(stream.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('a signed-out token is 401', async () => {
    const second = await mentorWithCohort(service, 'C');
    expect(
      (await json(service.url, 'DELETE', '/api/mentor/session', { token: second.token })).status,
    ).toBe(204);
    expect((await json(service.url, 'GET', '/api/cohorts', { token: second.token })).status).toBe(
      401,
    );
  });
});
