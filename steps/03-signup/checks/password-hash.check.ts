import bcrypt from 'bcrypt';
import { check, expectNotLeaked, fail, sandbox, show } from '@sandbox/harness';
import { signUp } from './users';

const lesson = '(steps/03-signup/README.md)';

check(
  'the password is stored as a bcrypt hash of cost >= 10, never in plain text, never returned',
  {
    concurrent: true,
    points: 4,
    hint: `Store bcrypt.hash(password, 12) in password_hash, nothing else derived from the password, and never put the row straight into a response ${lesson}.`,
  },
  async () => {
    const user = await signUp();
    const rows = await sandbox().db.query<Record<string, unknown>>(
      'select * from users where id = $1',
      [user.id],
    );
    const row = rows[0];
    if (!row)
      fail(`no users row with id ${user.id} (the id returned by signup)`, {
        exchange: user.signup,
      });
    const serialised = JSON.stringify(row);
    if (serialised.includes(user.password)) {
      fail('the plain-text password is stored in the users row', {
        expected: 'only a bcrypt hash of it',
        observed: `users row: ${show(row, 400)}`,
      });
    }
    const hash = row.password_hash;
    const cost =
      typeof hash === 'string'
        ? /^\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}$/.exec(hash)?.[1]
        : undefined;
    if (typeof hash !== 'string' || cost === undefined) {
      fail('users.password_hash is not a bcrypt hash', {
        expected: 'a hash like $2b$12$...(60 chars)',
        observed: `password_hash: ${show(hash)}`,
      });
    }
    if (Number(cost) < 10) {
      fail(`users.password_hash uses bcrypt cost ${Number(cost)}, expected at least 10`, {
        expected: 'cost >= 10 (e.g. bcrypt.hash(password, 12))',
        observed: `password_hash: ${hash}`,
      });
    }
    if (!(await bcrypt.compare(user.password, hash))) {
      fail('users.password_hash does not match the password sent at signup', {
        expected: 'bcrypt.compare(password, password_hash) to be true',
        observed: `password_hash: ${hash}`,
      });
    }
    expectNotLeaked(user.signup, hash, 'password hash');
    expectNotLeaked(user.signup, user.password, 'password');
  },
);
