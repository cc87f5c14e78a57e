import type { Cohort } from '../store/cohorts.repository';
import { call } from './http';
import { ask } from './prompt';

/** `sandbox cohort create NAME --server URL --email E`: signs the mentor in (password asked, or SANDBOX_MENTOR_PASSWORD) and creates a cohort. */
export async function runCohortCreate(
  name: string,
  flags: { server: string; email?: string },
): Promise<number> {
  const server = new URL(flags.server).toString();
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
    return 2;
  }
  const session = await call<{ token: string }>(server, 'POST', '/api/mentor/session', {
    json: { email, password },
  });
  const { cohort } = await call<{ cohort: Cohort }>(server, 'POST', '/api/cohorts', {
    token: session.token,
    json: { name },
  });
  await call(server, 'DELETE', '/api/mentor/session', { token: session.token }).catch(
    () => undefined,
  );
  process.stdout.write(
    [
      `Cohort "${cohort.name}" created (id ${cohort.id}).`,
      `Invite code: ${cohort.inviteCode}`,
      `Learners join with: npx sandbox join ${cohort.inviteCode} --server ${server}`,
      '',
    ].join('\n'),
  );
  return 0;
}
