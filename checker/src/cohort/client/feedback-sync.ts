import type { Feedback } from '../../course/progress';
import { writeWorkspaceFile } from '../../workspace/files';
import { call } from './http';
import { readMembership, type Membership } from './user-config';

interface ServiceNote {
  id: string;
  author: string;
  step: string | null;
  message: string;
  createdAt: string;
  readAt?: string | null;
}
interface NotesAnswer {
  notes: ServiceNote[];
}

/** Brings the mentor's notes into `.sandbox/feedback.json`, which `sandbox status` shows. Returns how many. */
export async function syncFeedback(
  membership: Membership,
  workspace: string,
  timeoutMs = 30_000,
): Promise<number> {
  return (await pullNotes(membership, workspace, timeoutMs)).length;
}

async function pullNotes(
  membership: Membership,
  workspace: string,
  timeoutMs: number,
): Promise<ServiceNote[]> {
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
  return notes;
}

export interface FeedbackRefresh {
  /** A line to show when the notes could not be brought in (status then shows those it had). */
  problem?: string;
  /** After status printed the notes: tells the service the learner has read them (the dashboard shows "read"). */
  markRead(): Promise<void>;
}

/**
 * For `sandbox status`: when this user joined a cohort, brings the newest notes in first (3 s at
 * most each call); nothing when they have not joined.
 */
export async function refreshFeedbackIfJoined(workspace: string): Promise<FeedbackRefresh> {
  const nothing = async (): Promise<void> => undefined;
  let membership: Membership | undefined;
  try {
    membership = readMembership();
  } catch {
    return {
      problem: '(mentor feedback not refreshed: the cohort membership file is damaged; join again)',
      markRead: nothing,
    };
  }
  if (!membership) return { markRead: nothing };
  const { server, token } = membership;
  try {
    const notes = await pullNotes(membership, workspace, 3000);
    return {
      markRead: async () => {
        for (const n of notes.filter((note) => !note.readAt))
          await call(server, 'POST', `/api/feedback/${n.id}/read`, {
            token,
            timeoutMs: 3000,
          }).catch(
            () => undefined, // shown anyway; the next status tries again
          );
      },
    };
  } catch (e) {
    return {
      problem: `(mentor feedback not refreshed: ${e instanceof Error ? e.message : String(e)})`,
      markRead: nothing,
    };
  }
}
