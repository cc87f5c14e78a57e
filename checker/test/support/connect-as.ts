import { Client } from 'pg';

/** Connects as `user` to `database` on the server of `adminUrl`: "connected to DB", or "refused: CODE". */
export async function connectAs(
  adminUrl: string,
  user: string,
  password: string,
  database: string,
): Promise<string> {
  const u = new URL(adminUrl);
  // The checker's own clusters listen on 127.0.0.1 only (their admin URL names localhost).
  const host = u.hostname === 'localhost' ? '127.0.0.1' : u.hostname;
  const client = new Client({ host, port: Number(u.port), user, password, database });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ db: string }>('SELECT current_database() AS db');
    return `connected to ${rows[0]!.db}`;
  } catch (e) {
    return `refused: ${(e as { code?: string }).code}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** `connectAs` on each of `databases`, side by side: what each answered, in order. */
export function connectEach(
  adminUrl: string,
  run: { role: string; password: string },
  databases: string[],
): Promise<string[]> {
  return Promise.all(databases.map((db) => connectAs(adminUrl, run.role, run.password, db)));
}

/** The databases of the server of `adminUrl` that PUBLIC may connect to (template0 takes no connection). */
export async function databasesOpenToPublic(adminUrl: string): Promise<string[]> {
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datallowconn AND has_database_privilege('public', datname, 'CONNECT')`,
    );
    return rows.map((r) => r.datname);
  } finally {
    await admin.end();
  }
}
