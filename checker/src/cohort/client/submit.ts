import { existsSync } from 'node:fs';
import { loadSteps } from '../../course/paths';
import { nextStep, readProgress, recordRun } from '../../course/progress';
import { resolveWorkspace } from '../../course/workspace';
import { sandboxCommand } from '../../course/command-line';
import { formatPretty } from '../../reporters/pretty';
import { colorFor } from '../../reporters/style';
import type { RunResult } from '../../results/types';
import { DEFAULT_LIMITS } from '../archive/limits';
import { packWorkspace } from '../archive/pack';
import type { Submission } from '../store/submissions.repository';
import { syncFeedback } from './feedback-sync';
import { call, ServiceError } from './http';
import { readMembership } from './user-config';

export interface SubmitFlags {
  workspace?: string;
  step?: string;
  wait?: boolean;
  waitTimeout: number;
}

interface SubmitAnswer {
  submission: Submission;
  duplicate: boolean;
}

interface SubmissionAnswer {
  submission: Submission;
  result: RunResult | null;
  exitCode: number | null;
}

const say = (m: string): void => void process.stderr.write(`${m}\n`);

/** `sandbox submit`: pack, upload with its sha256, bring feedback in; with --wait follow it to its grade and exit like `check`. */
export async function runSubmit(flags: SubmitFlags): Promise<number> {
  const membership = readMembership();
  if (!membership) {
    say(
      'You have not joined a cohort yet: run `npx sandbox join CODE --server URL` (your mentor has the code).',
    );
    return 2;
  }
  const workspace = resolveWorkspace(flags.workspace);
  if (!existsSync(`${workspace}/package.json`)) {
    say(`${workspace} is not a workspace: pass --workspace DIR or run \`npx sandbox init\`.`);
    return 2;
  }
  const steps = loadSteps();
  const upTo = flags.step
    ? stepNumber(flags.step, steps)
    : nextStep(readProgress(workspace), steps)?.number;
  const packed = await packWorkspace(workspace, DEFAULT_LIMITS);
  for (const s of packed.skipped) say(`(left out ${s}: not a regular file)`);
  const { submission, duplicate } = await call<SubmitAnswer>(
    membership.server,
    'POST',
    '/api/submissions',
    {
      token: membership.token,
      body: packed.archive,
      headers: {
        'x-sandbox-sha256': packed.sha256,
        ...(upTo ? { 'x-sandbox-step': String(upTo) } : {}),
      },
      timeoutMs: 120_000,
    },
  );
  say(
    duplicate
      ? `Already submitted: this content (sha256 ${packed.sha256.slice(0, 12)}) is submission ${submission.id}, ${submission.status}.`
      : `Submitted ${packed.files.length} files (${packed.archive.length} bytes, sha256 ${packed.sha256.slice(0, 12)}) as ${submission.id}: ${upTo ? `steps 1-${upTo}` : 'the whole course'}, queued.`,
  );
  await syncFeedback(membership, workspace).then(
    (n) =>
      n > 0 &&
      say(`${n} mentor note(s) in .sandbox/feedback.json: \`npx sandbox status\` shows them.`),
    (e: unknown) => say(`(feedback not fetched: ${e instanceof Error ? e.message : String(e)})`),
  );
  if (!flags.wait) return 0;
  const answer = await follow(
    membership.server,
    membership.token,
    submission.id,
    flags.waitTimeout,
  );
  if (!answer) {
    say(
      `Still not graded after ${flags.waitTimeout} s: \`${sandboxCommand('submit --wait')}\` again follows the same submission.`,
    );
    return 2;
  }
  process.stdout.write(formatPretty(answer.result!, { color: colorFor(process.stdout) }));
  if (answer.result!.steps.length > 0) recordRun(workspace, answer.result!);
  return answer.exitCode ?? 2;
}

function stepNumber(step: string, steps: { number: number; slug: string }[]): number {
  const found = steps.find((s) => String(s.number) === step || s.slug === step);
  if (!found)
    throw new Error(`unknown step "${step}": use a number from 1 to ${steps.length} or a slug`);
  return found.number;
}

/** Polls the submission until it has a result, printing each change of status; undefined after the timeout. */
async function follow(
  server: string,
  token: string,
  id: string,
  timeoutSeconds: number,
): Promise<SubmissionAnswer | undefined> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const answer = await call<SubmissionAnswer>(server, 'GET', `/api/submissions/${id}`, {
        token,
        timeoutMs: 10_000,
      });
      const status = answer.submission.status;
      if (status !== last) {
        say(
          status === 'grading'
            ? `grading (attempt ${answer.submission.attempts})...`
            : `${status}...`,
        );
        last = status;
      }
      if (answer.result) return answer;
    } catch (e) {
      // The service restarting (503, unreachable) is waited out; anything else is the answer.
      if (!(e instanceof ServiceError) || (e.status !== 503 && e.status !== 0)) throw e;
      if (last !== 'unavailable')
        say(`(the service is not answering: ${e.message}; still waiting)`);
      last = 'unavailable';
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return undefined;
}
