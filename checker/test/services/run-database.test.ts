import { createRunDatabase } from '../../src/services/run-database';
import { connectAs } from '../support/connect-as';

// The machine's Postgres (CI starts it; trust authentication, so only privileges stand between a
// run's role and a database): what a run's role may connect to.
const ADMIN_URL =
  process.env['SANDBOX_TEST_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

describe('a run database on a given Postgres', () => {
  it("lets the run's role into its own database, not into the runs' template or another run's", async () => {
    const [x, y] = await Promise.all([createRunDatabase(ADMIN_URL), createRunDatabase(ADMIN_URL)]);
    try {
      const tries = await Promise.all(
        [x.name, y.name, 'sandbox_template'].map((db) =>
          connectAs(ADMIN_URL, x.role, x.password, db),
        ),
      );
      // 42501: permission denied for database (CONNECT revoked from PUBLIC).
      expect(tries).toEqual([`connected to ${x.name}`, 'refused: 42501', 'refused: 42501']);
    } finally {
      await Promise.all([x.drop(), y.drop()]);
    }
  });
});
