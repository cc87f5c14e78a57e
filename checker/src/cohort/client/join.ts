import os from 'node:os';
import { call } from './http';
import { ask } from './prompt';
import { writeMembership, type Membership } from './user-config';

interface JoinAnswer {
  learner: { id: string; name: string };
  cohort: { id: string; name: string };
  token: string;
}

/** `sandbox join CODE --server URL [--name NAME]`: joins once, keeps the token in the user's config. */
export async function runJoin(
  code: string,
  flags: { server: string; name?: string },
): Promise<number> {
  const server = new URL(flags.server).toString();
  let name = flags.name;
  if (!name)
    name = process.stdin.isTTY
      ? (await ask(`Your name in the cohort [${os.userInfo().username}]: `)) ||
        os.userInfo().username
      : os.userInfo().username;
  const joined = await call<JoinAnswer>(server, 'POST', '/api/join', { json: { code, name } });
  const membership: Membership = {
    server,
    token: joined.token,
    learner: joined.learner,
    cohort: joined.cohort,
    joinedAt: new Date().toISOString(),
  };
  const file = writeMembership(membership);
  process.stdout.write(
    [
      `Joined "${joined.cohort.name}" as ${joined.learner.name}.`,
      `Your personal token is kept in ${file} (readable by you only; never in your workspace).`,
      // `npx sandbox` works from the course folder only: in a workspace npx would fetch an
      // unrelated `sandbox` package from the registry.
      'Next: `npm run sandbox -- submit --wait` in your workspace (or `npx sandbox submit --wait` from the course folder) sends it for grading.',
      '',
    ].join('\n'),
  );
  return 0;
}
