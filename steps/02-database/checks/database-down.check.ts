import {
  check,
  eventually,
  expectJsonBody,
  expectStatus,
  expectWithin,
  fail,
  sandbox,
  type AppInstance,
  type OwnFaults,
} from '@sandbox/harness';

/**
 * With the database `down` (refused) or `hanging` (accepted, never answered): /health answers 503
 * "down" within its deadline `probes` times in a row, the app keeps running, and /health is 200
 * again within `recoverMs` once the database is back. On an instance of its own whose database
 * alone is taken away, the checks beside it keep theirs; with a Redis database of its own, its
 * worker takes none of their jobs.
 */
async function healthWhileDatabase(
  fault: 'down' | 'hanging',
  probes: number,
  recoverMs: number,
): Promise<void> {
  const app = await sandbox().startInstance({ ownFaults: true, ownRedisDatabase: true });
  try {
    await healthOf(app, fault, probes, recoverMs);
  } finally {
    await app.stop();
  }
}

async function healthOf(
  app: AppInstance & OwnFaults,
  fault: 'down' | 'hanging',
  probes: number,
  recoverMs: number,
): Promise<void> {
  const { faults } = app;
  await (fault === 'down' ? faults.database.down() : faults.database.hang());
  try {
    for (let i = 0; i < probes; i += 1) {
      const ex = await app.http.get('/health', { timeoutMs: fault === 'down' ? 4000 : 5000 });
      expectStatus(ex, 503);
      expectJsonBody(ex, { status: 'error', checks: { database: 'down' } });
      // The contract's 1 s query timeout plus 2 s for a loaded machine.
      expectWithin(ex, 3000);
    }
    if (!app.running)
      fail(`the app exited while the database was ${fault}`, {
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
    recoverMs,
    200,
  );
}

check(
  'with the database stopped /health answers 503 "down" without crashing, and 200 once it is back',
  {
    points: 4,
    hint: 'Give the health query a 1 s timeout (e.g. Promise.race or knex .timeout(1000)), answer 503 {"status":"error","checks":{"database":"down"}} on failure, and never let a pool error crash the process (steps/02-database/README.md).',
    concurrent: true,
    timeoutMs: 15_000,
  },
  () => healthWhileDatabase('down', 2, 6000),
);

check(
  'with the database hanging (connections accepted, never answered) /health answers 503 "down" within its deadline',
  {
    points: 3,
    hint: 'A stopped database fails fast, a hung one never answers: race the health query against a 1 s timer (do not wait for the pool or the query to give up), and answer 503 {"status":"error","checks":{"database":"down"}} when the timer wins (steps/02-database/README.md).',
    concurrent: true,
    timeoutMs: 20_000,
  },
  // Several in a row: a pool whose connections all hang must not make later probes wait longer.
  () => healthWhileDatabase('hanging', 3, 8000),
);
