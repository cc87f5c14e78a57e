import { prepareRun, type Run } from '../../src/runner/session';
import { writeTinyApp, type TinyApp } from '../support/tiny-app';

/** An app that can be made to exit in the middle of a request, or to wedge its event loop. */
const WOBBLY = `
const express = require('express');
const app = express();
app.get('/health', (_req, res) => res.json({ status: 'ok' }));
app.get('/pid', (_req, res) => res.json({ pid: process.pid }));
app.post('/exit', () => process.exit(3));
app.post('/wedge', () => { for (;;) Date.now(); });
const server = app.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

describe('ensureAppRunning before each check', () => {
  let tiny: TinyApp;
  let run: Run;

  beforeAll(async () => {
    tiny = writeTinyApp({ start: 'node wobbly.js', files: { 'wobbly.js': WOBBLY } });
    run = await prepareRun({ workspace: tiny.dir });
  }, 60_000);
  afterAll(async () => {
    await run?.dispose();
    tiny?.remove();
  });

  const pid = async (): Promise<number> => {
    const ex = await run.context.app.http.get('/pid');
    return (ex.response.json as { pid: number }).pid;
  };

  it('keeps a healthy app as it is', async () => {
    const before = await pid();
    await run.ensureAppRunning();
    expect(await pid()).toBe(before);
  });

  it('restarts an app that exited in the middle of a request, even before its exit was noticed', async () => {
    for (let i = 0; i < 3; i++) {
      const before = await pid();
      await expect(run.context.app.http.post('/exit', { json: {} })).rejects.toThrow(
        /closed the connection|connection refused/,
      );
      // No waiting: the previous check failed on the dropped connection and the next one starts now.
      await run.ensureAppRunning();
      const health = await run.context.app.http.get('/health');
      expect(health.response.status).toBe(200);
      expect(await pid()).not.toBe(before);
    }
  }, 60_000);

  it('restarts an app whose event loop is stuck (it accepts connections but never answers)', async () => {
    const before = await pid();
    await expect(run.context.app.http.post('/wedge', { json: {}, timeoutMs: 300 })).rejects.toThrow(
      /no answer/,
    );
    expect(run.context.app.running).toBe(true);
    await run.ensureAppRunning();
    expect((await run.context.app.http.get('/health')).response.status).toBe(200);
    expect(await pid()).not.toBe(before);
  }, 60_000);
});
