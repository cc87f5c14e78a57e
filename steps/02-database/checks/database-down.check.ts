import {
  check,
  eventually,
  expectJsonBody,
  expectStatus,
  expectWithin,
  fail,
  sandbox,
} from '@sandbox/harness';

check(
  'with the database stopped /health answers 503 "down" without crashing, and 200 once it is back',
  {
    points: 4,
    hint: 'Give the health query a 1 s timeout (e.g. Promise.race or knex .timeout(1000)), answer 503 {"status":"error","checks":{"database":"down"}} on failure, and never let a pool error crash the process (steps/02-database/README.md).',
    timeoutMs: 15_000,
  },
  async () => {
    const { app, faults } = sandbox();
    await faults.database.down();
    try {
      for (let i = 0; i < 2; i += 1) {
        const ex = await app.http.get('/health', { timeoutMs: 4000 });
        expectStatus(ex, 503);
        expectJsonBody(ex, { status: 'error', checks: { database: 'down' } });
        // The contract's 1 s query timeout plus 2 s for a loaded machine.
        expectWithin(ex, 3000);
      }
      if (!app.running)
        fail('the app exited while the database was down', {
          expected: 'the app keeps running and answers 503',
        });
    } finally {
      await faults.database.up();
    }
    await eventually(
      async () => {
        const ex = await app.http.get('/health', { timeoutMs: 2000 });
        expectStatus(ex, 200);
        expectJsonBody(ex, { status: 'ok', checks: { database: 'up' } });
      },
      6000,
      200,
    );
  },
);

check(
  'with the database hanging (connections accepted, never answered) /health answers 503 "down" within its deadline',
  {
    points: 3,
    hint: 'A stopped database fails fast, a hung one never answers: race the health query against a 1 s timer (do not wait for the pool or the query to give up), and answer 503 {"status":"error","checks":{"database":"down"}} when the timer wins (steps/02-database/README.md).',
    timeoutMs: 20_000,
  },
  async () => {
    const { app, faults } = sandbox();
    await faults.database.hang();
    try {
      // Several in a row: a pool whose connections all hang must not make later probes wait longer.
      for (let i = 0; i < 3; i += 1) {
        const ex = await app.http.get('/health', { timeoutMs: 5000 });
        expectStatus(ex, 503);
        expectJsonBody(ex, { status: 'error', checks: { database: 'down' } });
        expectWithin(ex, 3000);
      }
      if (!app.running)
        fail('the app exited while the database was hanging', {
          expected: 'the app keeps running and answers 503',
        });
    } finally {
      await faults.database.up();
    }
    await eventually(
      async () => {
        const ex = await app.http.get('/health', { timeoutMs: 2000 });
        expectStatus(ex, 200);
        expectJsonBody(ex, { status: 'ok', checks: { database: 'up' } });
      },
      8000,
      200,
    );
  },
);
