import { Client } from 'pg';
import { startPrivatePostgres, type PrivatePostgres } from '../../src/services/local-postgres';
import {
  clusterMaxConnections,
  createRunDatabase,
  RUN_CONNECTION_LIMIT,
  type RunDatabase,
} from '../../src/services/run-database';
import { connectAs, connectEach, databasesOpenToPublic } from '../support/connect-as';

// The machine's Postgres (CI starts it; trust authentication, so only privileges stand between a
// run's role and a database): what a run's role may connect to.
const ADMIN_URL =
  process.env['SANDBOX_TEST_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

describe('a run database on a given Postgres', () => {
  it("lets the run's role into its own database, not into the runs' template or another run's", async () => {
    const [x, y] = await Promise.all([createRunDatabase(ADMIN_URL), createRunDatabase(ADMIN_URL)]);
    try {
      const tries = await connectEach(ADMIN_URL, x, [x.name, y.name, 'sandbox_template']);
      // 42501: permission denied for database (CONNECT revoked from PUBLIC).
      expect(tries).toEqual([`connected to ${x.name}`, 'refused: 42501', 'refused: 42501']);
    } finally {
      await Promise.all([x.drop(), y.drop()]);
    }
  });
});

/** Opens `n` connections as the run's role (the fault proxy's path stands aside: the role's limit is Postgres's). */
async function openAs(pg: PrivatePostgres, run: RunDatabase, n: number): Promise<Client[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const c = new Client({
        host: '127.0.0.1',
        port: pg.port,
        user: run.role,
        password: run.password,
        database: run.name,
      });
      c.on('error', () => undefined);
      await c.connect();
      return c;
    }),
  );
}

describe("a run database on the checker's private Postgres", () => {
  let pg: PrivatePostgres;
  beforeAll(async () => {
    pg = await startPrivatePostgres();
  }, 60_000);
  afterAll(() => pg?.stop());

  it("lets the run's role into its own database only: not postgres, template1, the runs' template or another run's", async () => {
    const [x, y] = await Promise.all([
      createRunDatabase(pg.adminUrl, { fileCopy: true }),
      createRunDatabase(pg.adminUrl, { fileCopy: true }),
    ]);
    try {
      const tries = await connectEach(pg.adminUrl, x, [
        x.name,
        y.name,
        'postgres',
        'template1',
        'sandbox_template',
      ]);
      expect(tries).toEqual([
        `connected to ${x.name}`,
        'refused: 42501',
        'refused: 42501',
        'refused: 42501',
        'refused: 42501',
      ]);
      // PUBLIC may connect to no database at all.
      expect(await databasesOpenToPublic(pg.adminUrl)).toEqual([]);
    } finally {
      await Promise.all([x.drop(), y.drop()]);
    }
  });

  it("gives a run's role Postgres's own error past its connection limit, and room for the checker and another run", async () => {
    const [x, y] = await Promise.all([
      createRunDatabase(pg.adminUrl, { fileCopy: true }),
      createRunDatabase(pg.adminUrl, { fileCopy: true }),
    ]);
    const held: Client[] = [];
    try {
      held.push(...(await openAs(pg, x, RUN_CONNECTION_LIMIT)));
      const refused = await openAs(pg, x, 1).then(
        (c) => (held.push(...c), 'connected'),
        (e: { code?: string; message?: string }) => `${e.code}: ${e.message}`,
      );
      expect(refused).toBe(`53300: too many connections for role "${x.role}"`);
      // The checker's inspector and another run still connect (a private cluster: one run's worth and the checker's own).
      expect(await x.inspector.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
      expect(await connectAs(pg.adminUrl, y.role, y.password, y.name)).toBe(
        `connected to ${y.name}`,
      );
      const admin = new Client({ connectionString: pg.adminUrl });
      await admin.connect();
      const { rows } = await admin.query<{ max_connections: string }>('SHOW max_connections');
      await admin.end();
      expect(Number(rows[0]!.max_connections)).toBe(clusterMaxConnections(1));
    } finally {
      await Promise.all(held.map((c) => c.end().catch(() => undefined)));
      await Promise.all([x.drop(), y.drop()]);
    }
  }, 60_000);
});
