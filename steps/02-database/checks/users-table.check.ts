import { check, expectShape, fail, is, sandbox } from '@sandbox/harness';

const lesson = '(steps/02-database/README.md)';

interface Column {
  column_name: string;
  data_type: string;
  udt_name: string;
  column_default: string | null;
}

check(
  'migrations create the users table with the contract columns',
  {
    concurrent: true,
    points: 3,
    hint: `Write a knex migration creating users(id uuid primary key, email, password_hash, email_verified boolean default false, created_at) and run knex.migrate.latest() before listen() ${lesson}.`,
  },
  async () => {
    const columns = await sandbox().db.query<Column>(
      `select column_name, data_type, udt_name, column_default from information_schema.columns
        where table_schema = current_schema() and table_name = 'users'`,
    );
    if (columns.length === 0)
      fail('there is no users table in the database', {
        expected: 'a users table created by your migrations at start',
      });
    const byName = Object.fromEntries(columns.map((c) => [c.column_name, c]));
    const observed = `columns: ${columns.map((c) => `${c.column_name} ${c.udt_name}`).join(', ')}`;
    expectShape(
      byName,
      {
        id: { udt_name: 'uuid' },
        email: { udt_name: is.oneOf('citext', 'text', 'varchar') },
        password_hash: { udt_name: is.oneOf('text', 'varchar', 'bpchar') },
        email_verified: { udt_name: 'bool', column_default: is.matching(/false/i) },
        created_at: { udt_name: is.oneOf('timestamptz', 'timestamp') },
      },
      'users columns',
      { observed },
    );
    const pk = await sandbox().db.query<{ column_name: string }>(
      `select a.attname as column_name from pg_index i
         join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
        where i.indrelid = 'users'::regclass and i.indisprimary`,
    );
    expectShape(
      pk.map((r) => r.column_name),
      ['id'],
      'users primary key',
    );
  },
);

check(
  'users.email is unique case-insensitively (citext or a unique index on lower(email))',
  {
    concurrent: true,
    points: 3,
    hint: `Either make email a citext column with a unique constraint, or add a unique index on lower(email) ${lesson}.`,
  },
  async () => {
    const indexes = await sandbox().db.query<{ indexdef: string; email_type: string }>(
      `select pg_get_indexdef(i.indexrelid) as indexdef,
              (select udt_name from information_schema.columns
                where table_schema = current_schema() and table_name = 'users' and column_name = 'email') as email_type
         from pg_index i where i.indrelid = 'users'::regclass and i.indisunique`,
    );
    const defs = indexes.map((r) => r.indexdef);
    const emailType = indexes[0]?.email_type;
    const onLower = defs.some(
      (d) => /lower\(\s*\(?\s*"?email"?\s*\)?(::text)?\s*\)/i.test(d) && !/\bWHERE\b/i.test(d),
    );
    const onCitext =
      emailType === 'citext' && defs.some((d) => /\(\s*"?email"?\s*\)$/i.test(d.trim()));
    if (onLower || onCitext) return;
    fail('users.email is not unique case-insensitively', {
      expected:
        'a unique index on lower(email), or a citext email column with a unique index on (email)',
      observed: `email type: ${emailType ?? 'unknown'}; unique indexes: ${defs.join('; ') || 'none'}`,
    });
  },
);
