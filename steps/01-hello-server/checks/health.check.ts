import { check, expectJsonBody, expectStatus, sandbox } from '@sandbox/harness';

const hint =
  'Add a GET /health route that answers res.json({ status: "ok" }) (steps/01-hello-server/README.md).';

check(
  'GET /health answers 200 {"status":"ok"}',
  { concurrent: true, points: 2, hint },
  async () => {
    const ex = await sandbox().app.http.get('/health');
    expectStatus(ex, 200);
    expectJsonBody(ex, { status: 'ok' });
  },
);
