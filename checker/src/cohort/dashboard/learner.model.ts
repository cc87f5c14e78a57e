import type { Db } from '../store/db';
import { notesOfLearner, type FeedbackNote } from '../store/feedback.repository';
import {
  attemptsOfLearner,
  checksOfSubmission,
  filesOfSubmission,
  type Attempt,
  type CheckRow,
} from '../store/grid.repository';
import type { Learner } from '../store/learners.repository';

export interface FileChange {
  path: string;
  change: 'added' | 'removed' | 'changed';
  sizeBefore: number | null;
  sizeAfter: number | null;
}

export interface CheckChange {
  step: string;
  name: string;
  before: CheckRow['status'] | 'absent';
  after: CheckRow['status'] | 'absent';
}

/** What changed between two attempts of the learner: files (by sha256) and check results. */
export interface Comparison {
  from: Attempt;
  to: Attempt;
  files: FileChange[];
  unchangedFiles: number;
  checks: CheckChange[];
}

export interface LearnerModel {
  attempts: Attempt[];
  notes: FeedbackNote[];
  comparison: Comparison | undefined;
}

export async function loadLearner(
  db: Db,
  learner: Learner,
  query: Record<string, unknown>,
): Promise<LearnerModel> {
  const [attempts, notes] = await Promise.all([
    attemptsOfLearner(db, learner.id),
    notesOfLearner(db, learner.id),
  ]);
  // Default: the newest graded attempt against the one before it. Ids come only from this learner's own attempts.
  const graded = attempts.filter((a) => a.result);
  const pick = (id: unknown, fallback: Attempt | undefined): Attempt | undefined =>
    (typeof id === 'string' ? attempts.find((a) => a.submission.id === id) : undefined) ?? fallback;
  const to = pick(query['to'], graded[0]);
  const from = pick(
    query['from'],
    graded.find((a) => a !== to && a.submission.createdAt < (to?.submission.createdAt ?? '')),
  );
  const comparison = from && to && from !== to ? await compare(db, from, to) : undefined;
  return { attempts, notes, comparison };
}

async function compare(db: Db, from: Attempt, to: Attempt): Promise<Comparison> {
  const [filesBefore, filesAfter, checksBefore, checksAfter] = await Promise.all([
    filesOfSubmission(db, from.submission.id),
    filesOfSubmission(db, to.submission.id),
    checksOfSubmission(db, from.submission.id),
    checksOfSubmission(db, to.submission.id),
  ]);
  const before = new Map(filesBefore.map((f) => [f.path, f]));
  const after = new Map(filesAfter.map((f) => [f.path, f]));
  const files: FileChange[] = [];
  let unchangedFiles = 0;
  for (const path of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const b = before.get(path);
    const a = after.get(path);
    if (b && a && b.sha256 === a.sha256) unchangedFiles++;
    else
      files.push({
        path,
        change: !b ? 'added' : !a ? 'removed' : 'changed',
        sizeBefore: b?.size ?? null,
        sizeAfter: a?.size ?? null,
      });
  }
  const key = (c: CheckRow): string => `${c.step}\u0000${c.name}`;
  const checkBefore = new Map(checksBefore.map((c) => [key(c), c]));
  const checkAfter = new Map(checksAfter.map((c) => [key(c), c]));
  const checks: CheckChange[] = [];
  for (const k of new Set([...checkBefore.keys(), ...checkAfter.keys()])) {
    const b = checkBefore.get(k);
    const a = checkAfter.get(k);
    if (b?.status === a?.status) continue;
    const any = (a ?? b)!;
    checks.push({
      step: any.step,
      name: any.name,
      before: b?.status ?? 'absent',
      after: a?.status ?? 'absent',
    });
  }
  return { from, to, files, unchangedFiles, checks };
}
