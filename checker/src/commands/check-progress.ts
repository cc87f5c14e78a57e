import { statSync } from 'node:fs';
import { recordRun } from '../course/progress';
import type { RunResult } from '../results/types';

export interface RecordPolicy {
  /** false with --no-progress. */
  progress: boolean;
  /** Whether the workspace is the learner's own (see isLearnersWorkspace): a grader's --workspace is not. */
  learnersOwn: boolean;
  interrupted: boolean;
}

/**
 * Why this run must not touch the workspace's `.sandbox/progress.json`, or undefined when it is the
 * learner's own finished run: not interrupted, not stopped by the time limit, no checker error, in
 * the learner's own workspace, by the user who owns it.
 */
export function whyNotRecorded(
  workspace: string,
  result: RunResult,
  policy: RecordPolicy,
): string | undefined {
  if (!policy.progress) return '--no-progress';
  if (policy.interrupted) return 'the run was interrupted';
  if (result.status === 'error' || result.error) return 'the run did not finish grading';
  if (result.steps.length === 0) return 'nothing was graded';
  if (!policy.learnersOwn) return 'graded with --workspace, not your own workspace';
  if (!ownedByMe(workspace)) return 'the workspace belongs to another user';
  return undefined;
}

/** Records the run's steps in the workspace's progress; says why when it does not. Never fails the run. */
export function rememberProgress(
  workspace: string,
  result: RunResult,
  policy: RecordPolicy,
  say: (message: string) => void,
): void {
  const why = whyNotRecorded(workspace, result, policy);
  if (why) {
    if (policy.progress && policy.learnersOwn) say(`(not recorded in your progress: ${why})`);
    return;
  }
  try {
    recordRun(workspace, result);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    say(
      `(progress not saved: ${e instanceof Error && !code ? e.message : `could not write .sandbox/progress.json (${code})`})`,
    );
  }
}

function ownedByMe(workspace: string): boolean {
  const uid = process.getuid?.();
  if (uid === undefined) return true; // Windows: no owners to compare
  try {
    return statSync(workspace).uid === uid;
  } catch {
    return false;
  }
}
