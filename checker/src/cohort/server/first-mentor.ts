import { ask } from '../client/prompt';
import type { Db } from '../store/db';
import { countMentors, createMentor } from '../store/mentors.repository';

export const MIN_PASSWORD_LENGTH = 12;

/**
 * The first mentor of a new service: from SANDBOX_MENTOR_EMAIL / SANDBOX_MENTOR_PASSWORD
 * (SANDBOX_MENTOR_NAME), else asked on the terminal. Returns a line to print, or undefined when
 * mentors already exist.
 */
export async function ensureFirstMentor(db: Db): Promise<string | undefined> {
  if ((await countMentors(db)) > 0) return undefined;
  let email = process.env['SANDBOX_MENTOR_EMAIL'];
  let password = process.env['SANDBOX_MENTOR_PASSWORD'];
  let name = process.env['SANDBOX_MENTOR_NAME'];
  if (!email || !password) {
    if (!process.stdin.isTTY)
      return 'No mentor account yet: start once in a terminal (it asks), or set SANDBOX_MENTOR_EMAIL and SANDBOX_MENTOR_PASSWORD.';
    process.stdout.write('No mentor account yet: create the first one.\n');
    email = await ask('  email: ');
    name = await ask('  name: ');
    password = await ask(`  password (at least ${MIN_PASSWORD_LENGTH} characters): `, true);
  }
  if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw new Error(`"${email}" is not an email address`);
  if (password.length < MIN_PASSWORD_LENGTH)
    throw new Error(`the mentor password needs at least ${MIN_PASSWORD_LENGTH} characters`);
  const mentor = await createMentor(db, {
    email,
    name: name || email.split('@')[0] || email,
    password,
  });
  return `Created mentor ${mentor.name} <${mentor.email}>.`;
}
