import pg from 'pg';
import { createRunDatabase } from '../../src/services/run-database';

// The machine's Postgres (CI starts it; trust authentication, so only privileges stand between a
// run's role and a database): what a run's role may connect to.
const ADMIN_URL =
  process.env['SANDBOX_TEST_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function connectAs(user: string, password: string, database: string): Promise<string> {
  const u = new URL(ADMIN_URL);
  const client = new pg.Client({
    host: u.hostname,
    port: Number(u.port),
    user,
    password,
    database,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return `connected to ${database}`;
  } catch (e) {
    return `refused: ${(e as { code?: string }).code ?? (e as Error).message}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

describe('a run database on a given Postgres', () => {
  it("lets the run's role into its own database, not into the runs' template or another run's", async () => {
    const [x, y] = await Promise.all([createRunDatabase(ADMIN_URL), createRunDatabase(ADMIN_URL)]);
    try {
      const tries = await Promise.all(
        [x.name, y.name, 'sandbox_template'].map((db) => connectAs(x.role, x.password, db)),
      );
      // 42501: permission denied for database (CONNECT revoked from PUBLIC).
      expect(tries).toEqual([`connected to ${x.name}`, 'refused: 42501', 'refused: 42501']);
    } finally {
      await Promise.all([x.drop(), y.drop()]);
    }
  });
});
