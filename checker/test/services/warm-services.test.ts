import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { prepareRun } from '../../src/runner/session';
import { runsDir, sweepOrphanRuns } from '../../src/services/local-postgres';
import { canConnect } from '../../src/services/ports';
import {
  findWarmPostgres,
  startWarmPostgres,
  stopWarmPostgres,
} from '../../src/services/warm-postgres';
import { stillAlive } from '../support/leftovers';
import { writeTinyApp } from '../support/tiny-app';

async function runDatabases(adminUrl: string): Promise<string[]> {
  const c = new Client({ connectionString: adminUrl });
  await c.connect();
  try {
    const { rows } = await c.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE 'sandbox\\_run\\_${process.pid}\\_%'`,
    );
    return rows.map((r) => r.datname);
  } finally {
    await c.end();
  }
}

describe('sandbox services: a warm private Postgres', () => {
  const cache = mkdtempSync(path.join(os.tmpdir(), 'sandbox-warm-cache-'));
  const saved = process.env['SANDBOX_CACHE_DIR'];
  beforeAll(() => {
    process.env['SANDBOX_CACHE_DIR'] = cache; // its own warm cluster, never the developer's
    delete process.env['SANDBOX_WARM_SERVICES'];
  });
  afterAll(async () => {
    await stopWarmPostgres();
    if (saved === undefined) delete process.env['SANDBOX_CACHE_DIR'];
    else process.env['SANDBOX_CACHE_DIR'] = saved;
    rmSync(cache, { recursive: true, force: true });
  });

  it('is reused by runs, each with its own database dropped at the end, and stops with `down`', async () => {
    expect(await findWarmPostgres()).toBeUndefined();
    const warm = await startWarmPostgres();
    expect(await startWarmPostgres()).toEqual(warm); // up twice: still one cluster
    const tiny = writeTinyApp();
    const progress: string[] = [];
    const phases: string[] = [];
    try {
      const run = await prepareRun({
        workspace: tiny.dir,
        onProgress: (m) => progress.push(m),
        onTiming: (p) => phases.push(p),
      });
      const [own] = await runDatabases(warm.adminUrl);
      expect(run.context.env['DATABASE_URL']).toContain(`/${own}`);
      expect((await run.context.app.http.get('/health')).response.status).toBe(200);
      await run.dispose();
    } finally {
      tiny.remove();
    }
    expect(progress).not.toContain('Starting Postgres...');
    expect(phases).toEqual(
      expect.arrayContaining(['services.database', 'setup.services', 'setup.app']),
    );
    expect(phases).not.toContain('services.postgres');
    expect(await runDatabases(warm.adminUrl)).toEqual([]);
    expect(stillAlive([warm.pid])).toEqual([warm.pid]);

    expect(await stopWarmPostgres()).toBe(true);
    expect(stillAlive([warm.pid])).toEqual([]);
    expect(existsSync(warm.runDir)).toBe(false);
    expect(await findWarmPostgres()).toBeUndefined();
  }, 90_000);
});

describe('sweepOrphanRuns', () => {
  it('ends the private redis-server of a SIGKILLed checker and removes its run dir', async () => {
    // node itself (not the tsx wrapper), so the SIGKILL reaches the owner.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(__dirname, '..', 'support', 'redis-owner-child.ts')],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const [line] = (await once(child.stdout, 'data')) as [Buffer];
    const { port, pid } = JSON.parse(line.toString()) as { port: number; pid: number };
    expect(pid).toBe(child.pid);
    const ownDirs = (): string[] =>
      readdirSync(runsDir()).filter((d) => d.startsWith(`redis-${pid}-`));
    expect(await canConnect(port)).toBe(true);
    expect(ownDirs()).toHaveLength(1);
    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(await canConnect(port)).toBe(true); // left behind, as a SIGKILLed checker leaves it

    await sweepOrphanRuns();
    for (let i = 0; i < 40 && (await canConnect(port)); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(await canConnect(port)).toBe(false);
    expect(ownDirs()).toEqual([]);
  }, 30_000);
});
