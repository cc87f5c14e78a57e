import type { Cohort } from '../store/cohorts.repository';
import { call } from './http';
import { ask } from './prompt';

/**
 * Signs the mentor in (email from --email or SANDBOX_MENTOR_EMAIL, password asked on a terminal
 * or SANDBOX_MENTOR_PASSWORD), runs `work` with the session's token, then signs out.
 * Undefined when no email or password was given (the caller exits 2).
 */
async function asMentor<T>(
  server: string,
  flags: { email?: string },
  work: (token: string) => Promise<T>,
): Promise<T | undefined> {
  const email =
    flags.email ??
    process.env['SANDBOX_MENTOR_EMAIL'] ??
    (process.stdin.isTTY ? await ask('Mentor email: ') : '');
  const password =
    process.env['SANDBOX_MENTOR_PASSWORD'] ??
    (process.stdin.isTTY ? await ask('Password: ', true) : '');
  if (!email || !password) {
    process.stderr.write(
      'Give --email and a password (asked on a terminal, or SANDBOX_MENTOR_PASSWORD).\n',
    );
    return undefined;
  }
  const session = await call<{ token: string }>(server, 'POST', '/api/mentor/session', {
    json: { email, password },
  });
  try {
    return await work(session.token);
  } finally {
    await call(server, 'DELETE', '/api/mentor/session', { token: session.token }).catch(
      () => undefined,
    );
  }
}

/** `sandbox cohort create NAME --server URL --email E`: creates a cohort and prints its invite code. */
export async function runCohortCreate(
  name: string,
  flags: { server: string; email?: string },
): Promise<number> {
  const server = new URL(flags.server).toString();
  const cohort = await asMentor(server, flags, async (token) => {
    const created = await call<{ cohort: Cohort }>(server, 'POST', '/api/cohorts', {
      token,
      json: { name },
    });
    return created.cohort;
  });
  if (!cohort) return 2;
  process.stdout.write(
    [
      `Cohort "${cohort.name}" created (id ${cohort.id}).`,
      `Invite code: ${cohort.inviteCode}`,
      `Learners join with: npx sandbox join ${cohort.inviteCode} --server ${server.replace(/\/$/, '')}`,
      '',
    ].join('\n'),
  );
  return 0;
}

/** `sandbox cohort invite ID --close|--open`: closes the invite code, or opens the cohort with a fresh one. */
export async function runCohortInvite(
  cohortId: string,
  flags: { server: string; email?: string; open?: boolean; close?: boolean },
): Promise<number> {
  if (Boolean(flags.open) === Boolean(flags.close)) {
    process.stderr.write('Give one of --close (nobody joins any more) or --open (a fresh code).\n');
    return 2;
  }
  const server = new URL(flags.server).toString();
  const route = `/api/cohorts/${encodeURIComponent(cohortId)}/invite`;
  const cohort = await asMentor(server, flags, async (token) => {
    const r = await call<{ cohort: Cohort }>(server, flags.open ? 'POST' : 'DELETE', route, {
      token,
    });
    return r.cohort;
  });
  if (!cohort) return 2;
  process.stdout.write(
    cohort.inviteOpen
      ? `Cohort "${cohort.name}" is open again with a new invite code: ${cohort.inviteCode}\nLearners join with: npx sandbox join ${cohort.inviteCode} --server ${server.replace(/\/$/, '')}\n`
      : `Cohort "${cohort.name}": its invite code is closed (learners who joined stay; nobody joins any more).\n`,
  );
  return 0;
}
