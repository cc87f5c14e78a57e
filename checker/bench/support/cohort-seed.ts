import { createHash, randomBytes } from 'node:crypto';
import type { CourseStep } from '../../src/cohort/server/deps';
import type { Db } from '../../src/cohort/store/db';
import { checkRowsOf, stepRowsOf } from '../../src/cohort/store/results.repository';
import { hashToken, newToken } from '../../src/cohort/store/tokens';
import type { RunResult } from '../../src/results/types';

// Seeds a cohort's learners, submissions and results straight into the store (batched inserts):
// the dashboard's tests and benchmark need realistic data fast, without grading anything.

const CHECKS_PER_STEP = 4;
export const checkName = (step: CourseStep, i: number): string =>
  `${step.slug} check ${i + 1}: ${['answers with the contract', 'rejects bad input', 'keeps state', 'survives a restart'][i] ?? 'works'}`;

/** A checker result for a workspace that passes the steps before `failingStep` (0-based; steps.length: everything passes). */
export function fabricatedResult(
  steps: CourseStep[],
  upTo: number,
  failingStep: number,
  failingCheck = 1,
): RunResult {
  const graded = steps.slice(0, upTo);
  const stepResults = graded.map((s, i) => {
    const checks = Array.from({ length: CHECKS_PER_STEP }, (_, c) => {
      const fails = i === failingStep && c === failingCheck;
      return {
        name: checkName(s, c),
        status: fails ? ('fail' as const) : ('pass' as const),
        points: fails ? 0 : 3,
        maxPoints: 3,
        message: fails
          ? `POST /auth/signup answered 500 <script>alert("x")</script>; expected 201`
          : '',
        hint: fails ? 'Read the lesson’s section on validation.' : '',
        durationMs: 20,
        ...(fails
          ? { details: { summary: 'status', logs: 'Error: boom\n    at handler (src/app.ts:12)' } }
          : {}),
      };
    });
    const score = checks.reduce((sum, c) => sum + c.points, 0);
    return {
      number: s.number,
      slug: s.slug,
      title: s.title,
      status: checks.every((c) => c.status === 'pass') ? ('pass' as const) : ('fail' as const),
      score,
      maxScore: CHECKS_PER_STEP * 3,
      checks,
    };
  });
  const score = stepResults.reduce((sum, s) => sum + s.score, 0);
  return {
    schemaVersion: 1,
    status: stepResults.every((s) => s.status === 'pass') ? 'pass' : 'fail',
    score,
    maxScore: stepResults.length * CHECKS_PER_STEP * 3,
    workspace: '/submission',
    startedAt: new Date().toISOString(),
    durationMs: 1000,
    services: 'local',
    runtime: { kind: 'container', contained: true },
    steps: stepResults,
  };
}

export interface SeededLearner {
  id: string;
  name: string;
  token: string;
}

/** Learners in a cohort (names given), joined `daysAgo` days ago. */
export async function seedLearners(
  db: Db,
  cohortId: string,
  names: string[],
  daysAgo = 10,
): Promise<SeededLearner[]> {
  const out: SeededLearner[] = [];
  for (let i = 0; i < names.length; i += 500) {
    const batch = names.slice(i, i + 500).map((name) => ({ name, token: newToken('learner') }));
    const rows = await db('learners')
      .insert(
        batch.map((b) => ({
          cohort_id: cohortId,
          name: b.name,
          token_hash: hashToken(b.token),
          joined_at: new Date(Date.now() - daysAgo * 86_400_000),
        })),
      )
      .returning<{ id: string; name: string }[]>(['id', 'name']);
    rows.forEach((r, k) => out.push({ id: r.id, name: r.name, token: batch[k]!.token }));
  }
  return out;
}

export interface SeedAttempt {
  learnerId: string;
  /** When it was submitted and graded. */
  at: Date;
  /** Steps graded (1..upTo). */
  upTo: number;
  /** 0-based index of the failing step (>= upTo: everything passes). */
  failingStep: number;
  failingCheck?: number;
  /** Files of the submission: path → content (hashed). */
  files?: Record<string, string>;
}

/** Graded submissions with their results, step and check rows, in batches of 200 (no events: history). */
export async function seedAttempts(
  db: Db,
  cohortId: string,
  steps: CourseStep[],
  attempts: SeedAttempt[],
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < attempts.length; i += 200) {
    const batch = attempts.slice(i, i + 200);
    await db.transaction(async (trx) => {
      const subs = await trx('submissions')
        .insert(
          batch.map((a) => ({
            learner_id: a.learnerId,
            cohort_id: cohortId,
            sha256: randomBytes(32).toString('hex'),
            up_to_step: a.upTo,
            size_bytes: 1000,
            file_count: Object.keys(a.files ?? { 'src/app.ts': '' }).length,
            status: 'graded',
            attempts: 1,
            worker: 'seed',
            created_at: a.at,
            started_at: a.at,
            finished_at: a.at,
          })),
        )
        .returning<{ id: string }[]>('id');
      const results = batch.map((a) =>
        fabricatedResult(steps, a.upTo, a.failingStep, a.failingCheck ?? 1),
      );
      await trx('results').insert(
        batch.map((a, k) => ({
          submission_id: subs[k]!.id,
          status: results[k]!.status,
          score: results[k]!.score,
          max_score: results[k]!.maxScore,
          exit_code: results[k]!.status === 'pass' ? 0 : 1,
          runtime: 'container',
          contained: true,
          result: JSON.stringify(results[k]),
          worker: 'seed',
          duration_ms: 1000,
          graded_at: a.at,
        })),
      );
      const stepRows = batch.flatMap((a, k) =>
        stepRowsOf({ id: subs[k]!.id, learnerId: a.learnerId, cohortId }, results[k]!, a.at),
      );
      for (let j = 0; j < stepRows.length; j += 1000)
        await trx('step_results').insert(stepRows.slice(j, j + 1000));
      const checkRows = batch.flatMap((_a, k) => checkRowsOf(subs[k]!.id, results[k]!));
      for (let j = 0; j < checkRows.length; j += 1000)
        await trx('check_results').insert(checkRows.slice(j, j + 1000));
      const fileRows = batch.flatMap((a, k) =>
        Object.entries(a.files ?? { 'src/app.ts': `// ${k}` }).map(([path, content]) => ({
          submission_id: subs[k]!.id,
          path,
          sha256: createHash('sha256').update(content).digest('hex'),
          size_bytes: Buffer.byteLength(content),
        })),
      );
      for (let j = 0; j < fileRows.length; j += 1000)
        await trx('submission_files').insert(fileRows.slice(j, j + 1000));
      ids.push(...subs.map((s) => s.id));
    });
  }
  return ids;
}
