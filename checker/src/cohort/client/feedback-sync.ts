import type { Feedback } from '../../course/progress';
import { writeWorkspaceFile } from '../../workspace/files';
import { call } from './http';
import { readMembership, type Membership } from './user-config';

interface NotesAnswer {
  notes: { id: string; author: string; step: string | null; message: string; createdAt: string }[];
}

/** Brings the mentor's notes into `.sandbox/feedback.json`, which `sandbox status` shows. Returns how many. */
export async function syncFeedback(
  membership: Membership,
  workspace: string,
  timeoutMs = 30_000,
): Promise<number> {
  const { notes } = await call<NotesAnswer>(membership.server, 'GET', '/api/feedback', {
    token: membership.token,
    timeoutMs,
  });
  const feedback: Feedback[] = notes.map((n) => ({
    author: n.author,
    message: n.message,
    at: n.createdAt,
    ...(n.step ? { step: n.step } : {}),
  }));
  // Never through a link planted in the workspace (the same writer as progress.json).
  writeWorkspaceFile(workspace, '.sandbox/feedback.json', `${JSON.stringify(feedback, null, 2)}\n`);
  return feedback.length;
}

/**
 * For `sandbox status`: when this user joined a cohort, brings the newest notes in first (3 s at
 * most). Returns a line to show when that failed; status then shows the notes it already had.
 */
export async function refreshFeedbackIfJoined(workspace: string): Promise<string | undefined> {
  let membership: Membership | undefined;
  try {
    membership = readMembership();
  } catch {
    return '(mentor feedback not refreshed: the cohort membership file is damaged; join again)';
  }
  if (!membership) return undefined;
  try {
    await syncFeedback(membership, workspace, 3000);
    return undefined;
  } catch (e) {
    return `(mentor feedback not refreshed: ${e instanceof Error ? e.message : String(e)})`;
  }
}
