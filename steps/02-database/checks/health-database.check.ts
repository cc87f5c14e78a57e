import { check, expectJsonBody, expectStatus, sandbox } from '@sandbox/harness';

check(
  'GET /health reports the database as up',
  {
    concurrent: true,
    points: 2,
    hint: 'In GET /health run a tiny query (select 1) and answer {"status":"ok","checks":{"database":"up"}} (steps/02-database/README.md).',
  },
  async () => {
    const ex = await sandbox().app.http.get('/health');
    expectStatus(ex, 200);
    expectJsonBody(ex, { status: 'ok', checks: { database: 'up' } });
  },
);
