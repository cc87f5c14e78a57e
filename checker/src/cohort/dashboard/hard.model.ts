import type { CourseStep } from '../server/deps';
import type { Db } from '../store/db';
import { firstPasses, mostFailedChecks, type FailedCheck } from '../store/dashboard.repository';

export interface HardModel {
  since: string;
  failed: FailedCheck[];
  /** Per step, how many learners had passed it at the end of each day (oldest first). */
  days: string[];
  passedByDay: { step: CourseStep; counts: number[] }[];
  learners: number;
}

const DAY = 86_400_000;

/** Where the course is hard: the checks failed most this week, and learners passing each step over time. */
export async function loadHard(
  db: Db,
  cohortId: string,
  steps: CourseStep[],
  now = Date.now(),
): Promise<HardModel> {
  const since = new Date(now - 7 * DAY);
  const [failed, passes, learners] = await Promise.all([
    mostFailedChecks(db, cohortId, since),
    firstPasses(db, cohortId),
    db('learners').where('cohort_id', cohortId).count<{ n: string }[]>({ n: '*' }).first(),
  ]);
  const first = passes.reduce((min, p) => (p.at < min ? p.at : min), new Date(now).toISOString());
  const start = Date.parse(first.slice(0, 10));
  const dayCount = Math.min(120, Math.max(1, Math.floor((now - start) / DAY) + 1));
  const from = now - (dayCount - 1) * DAY;
  const days = Array.from({ length: dayCount }, (_, i) =>
    new Date(from + i * DAY).toISOString().slice(0, 10),
  );
  const passedByDay = steps.map((step) => {
    const times = passes.filter((p) => p.stepNumber === step.number).map((p) => p.at.slice(0, 10));
    return { step, counts: days.map((d) => times.filter((t) => t <= d).length) };
  });
  return {
    since: since.toISOString(),
    failed,
    days,
    passedByDay,
    learners: Number(learners?.n ?? 0),
  };
}
