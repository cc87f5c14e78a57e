import { Client } from 'pg';

/** Connects as `user` to `database` on the server of `adminUrl`: "connected to DB", or "refused: CODE". */
export async function connectAs(
  adminUrl: string,
  user: string,
  password: string,
  database: string,
): Promise<string> {
  const u = new URL(adminUrl);
  const client = new Client({ host: u.hostname, port: Number(u.port), user, password, database });
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
