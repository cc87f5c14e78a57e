import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FIXTURES, runCli } from './support/run-child';

describe('sandbox check when it cannot grade', () => {
  let empty: string;
  beforeAll(() => {
    empty = mkdtempSync(path.join(os.tmpdir(), 'sandbox-cli-'));
    writeFileSync(path.join(empty, 'package.json'), JSON.stringify({ name: 'no-start' }));
  });
  afterAll(() => rmSync(empty, { recursive: true, force: true }));

  it('a folder without a start script exits 2 and says what to do', () => {
    const r = runCli(['check', '--workspace', empty]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'is not a workspace: pass --workspace DIR or run `npx sandbox init`',
    );
  });

  it('the current directory is the default workspace', () => {
    const r = runCli(['check'], { cwd: empty });
    expect([r.code, r.stderr.includes(`${empty} is not a workspace`)]).toEqual([2, true]);
  });

  it('an unknown step exits 2 and lists the steps', () => {
    const r = runCli(['check', '--workspace', path.join(FIXTURES, 'tiny-app'), '--step', 'nope'], {
      env: { SANDBOX_STEPS_DIR: path.join(FIXTURES, 'steps') },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown step "nope": use one of 1 (hello), 2 (broken), 3 (crash)');
  });

  it('--only without --step, and an unknown option, exit 2', () => {
    expect(runCli(['check', '--workspace', path.join(FIXTURES, 'tiny-app'), '--only']).code).toBe(
      2,
    );
    const bad = runCli(['check', '--bogus']);
    expect([bad.code, bad.stderr.includes("unknown option '--bogus'")]).toEqual([2, true]);
  });

  it('--help exits 0 and lists every option', () => {
    const r = runCli(['check', '--help']);
    expect(r.code).toBe(0);
    for (const flag of [
      '--workspace',
      '--step',
      '--only',
      '--format',
      '--out',
      '--services',
      '--runtime',
      '--database-url',
      '--redis-url',
      '--timeout',
    ]) {
      expect(r.stdout).toContain(flag);
    }
  });
});

describe('sandbox check on the tiny app (real runtime, local services)', () => {
  const env = { SANDBOX_STEPS_DIR: path.join(FIXTURES, 'steps') };
  const tinyApp = path.join(FIXTURES, 'tiny-app');

  it('exits 0 when every selected step passes', () => {
    const r = runCli(['check', '--workspace', tinyApp, '--step', '1', '--services', 'local'], {
      env,
    });
    expect([r.code, r.stdout.includes('2 passed, 0 failed')]).toEqual([0, true]);
    expect(r.stderr).toContain('Step 1: Hello (hello)');
  });

  it('exits 1 when a step fails, and --out writes the report while the summary stays on the terminal', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sandbox-out-'));
    const out = path.join(dir, 'junit.xml');
    const r = runCli(
      [
        'check',
        '--workspace',
        tinyApp,
        '--step',
        '2',
        '--only',
        '--services',
        'local',
        '--format',
        'junit',
        '--out',
        out,
      ],
      { env },
    );
    const xml = readFileSync(out, 'utf8');
    rmSync(dir, { recursive: true, force: true });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('0 passed, 1 failed');
    expect(xml).toContain('<failure message="GET /teapot answered 404 NOT_FOUND, expected 418">');
  });
});

describe('sandbox doctor', () => {
  it('reports Node, npm, Postgres and Redis, and exits 0 when local mode can grade', () => {
    const r = runCli(['doctor', '--json']);
    const report = JSON.parse(r.stdout) as {
      canGradeLocally: boolean;
      findings: { name: string; ok: boolean }[];
    };
    expect(report.findings.map((f) => f.name).slice(0, 4)).toEqual([
      'Node.js',
      'npm',
      'Postgres',
      'Redis',
    ]);
    expect(r.code).toBe(report.canGradeLocally ? 0 : 2);
  });

  it('says whether a process run is contained here (as root on this machine: it is)', () => {
    const r = runCli(['doctor', '--json']);
    const report = JSON.parse(r.stdout) as {
      findings: { name: string; ok: boolean; detail: string }[];
    };
    const finding = report.findings.find((f) => f.name === 'Process runtime');
    expect(finding).toMatchObject(
      process.getuid?.() === 0
        ? { ok: true, detail: expect.stringContaining('contained: a uid of its own per run') }
        : { ok: false, detail: expect.stringContaining('not contained') },
    );
  });

  it('exits 2 and says what to install when Redis is missing', () => {
    const bin = mkdtempSync(path.join(os.tmpdir(), 'sandbox-path-'));
    symlinkSync(process.execPath, path.join(bin, 'node'));
    const r = runCli(['doctor'], { env: { PATH: bin, REDIS_URL: '' } });
    rmSync(bin, { recursive: true, force: true });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('✗ Redis: redis-server not found');
    expect(r.stdout).toContain('apt-get install redis-server');
  });
});
