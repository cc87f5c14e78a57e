import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import pg from 'pg';
import { QUEUE_NAME, redisConnection } from '../../../src/cohort/queue/grading-queue';
import { startCohortService, type RunningService } from '../../../src/cohort/server/start';
import { createMentor } from '../../../src/cohort/store/mentors.repository';

/** The machine's Postgres and Redis (CI starts them); each test file gets its own database and queue prefix. */
export const ADMIN_URL =
  process.env['SANDBOX_TEST_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env['SANDBOX_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

export interface TestService extends RunningService {
  databaseUrl: string;
  queuePrefix: string;
  /** Stops the service and drops its database. */
  dispose(): Promise<void>;
}

export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `cohort_test_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** Swaps host and port of a URL (to go through a fault proxy). */
export function through(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return u.toString();
}

export async function startTestService(
  overrides: {
    reconcileEveryMs?: number;
    databaseUrl?: (url: string) => string;
    redisUrl?: string;
    gradeRetry?: { attempts: number; backoffMs: number };
  } = {},
): Promise<TestService> {
  const database = await createTestDatabase();
  const queuePrefix = `cohort-test-${randomBytes(4).toString('hex')}`;
  const service = await startCohortService({
    databaseUrl: overrides.databaseUrl ? overrides.databaseUrl(database.url) : database.url,
    redisUrl: overrides.redisUrl ?? REDIS_URL,
    port: 0,
    host: '127.0.0.1',
    queuePrefix,
    eventPollMs: 50,
    log: () => undefined,
    ...(overrides.reconcileEveryMs ? { reconcileEveryMs: overrides.reconcileEveryMs } : {}),
    ...(overrides.gradeRetry ? { gradeRetry: overrides.gradeRetry } : {}),
  });
  return {
    ...service,
    databaseUrl: database.url,
    queuePrefix,
    dispose: async () => {
      await service.stop();
      // The queue's keys in the shared Redis go with the test.
      const queue = new Queue(QUEUE_NAME, {
        connection: redisConnection(overrides.redisUrl ?? REDIS_URL, false),
        prefix: queuePrefix,
      });
      await Promise.race([
        queue.waitUntilReady().then(() => queue.obliterate({ force: true })),
        new Promise((r) => setTimeout(r, 5000)),
      ]).catch(() => undefined);
      await queue.close().catch(() => undefined);
      await database.drop();
    },
  };
}

let counter = 0;
/** A mentor with a token, a cohort and its invite code. */
export async function mentorWithCohort(
  service: TestService,
  cohortName = 'Cohort',
): Promise<{
  token: string;
  email: string;
  mentorId: string;
  cohortId: string;
  inviteCode: string;
}> {
  const email = `mentor-${process.pid}-${++counter}-${randomBytes(3).toString('hex')}@example.com`;
  const mentor = await createMentor(service.db, {
    email,
    name: `Mentor ${counter}`,
    password: 'correct-horse-battery',
  });
  const session = await json<{ token: string }>(service.url, 'POST', '/api/mentor/session', {
    body: { email, password: 'correct-horse-battery' },
  });
  const created = await json<{ cohort: { id: string; inviteCode: string } }>(
    service.url,
    'POST',
    '/api/cohorts',
    {
      token: session.body.token,
      body: { name: cohortName },
    },
  );
  const { cohort } = created.body;
  return {
    token: session.body.token,
    email,
    mentorId: mentor.id,
    cohortId: cohort.id,
    inviteCode: cohort.inviteCode,
  };
}

export async function joinAs(
  service: TestService,
  inviteCode: string,
  name: string,
): Promise<{ token: string; learnerId: string }> {
  const r = await json<{ token: string; learner: { id: string } }>(
    service.url,
    'POST',
    '/api/join',
    {
      body: { code: inviteCode, name },
    },
  );
  if (r.status !== 201) throw new Error(`join answered ${r.status}: ${JSON.stringify(r.body)}`);
  return { token: r.body.token, learnerId: r.body.learner.id };
}

export async function json<T = unknown>(
  base: string,
  method: string,
  route: string,
  opts: { token?: string; body?: unknown; raw?: Buffer; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
  let body: string | Buffer | undefined;
  if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.body);
  } else if (opts.raw) {
    headers['content-type'] ??= 'application/gzip';
    body = opts.raw;
  }
  const res = await fetch(new URL(route, base), {
    method,
    headers,
    ...(body !== undefined ? { body } : {}),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}
