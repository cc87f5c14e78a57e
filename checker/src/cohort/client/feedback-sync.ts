import type { Feedback } from '../../course/progress';
import { writeWorkspaceFile } from '../../course/workspace-files';
import { call } from './http';
import type { Membership } from './user-config';

interface NotesAnswer {
  notes: { id: string; author: string; step: string | null; message: string; createdAt: string }[];
}

/** Brings the mentor's notes into `.sandbox/feedback.json`, which `sandbox status` shows. Returns how many. */
export async function syncFeedback(membership: Membership, workspace: string): Promise<number> {
  const { notes } = await call<NotesAnswer>(membership.server, 'GET', '/api/feedback', {
    token: membership.token,
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
