import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FIXTURES, runCli } from './support/run-child';

describe('a workspace whose build fails', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sandbox-build-fails-'));
    cpSync(path.join(FIXTURES, 'tiny-app'), dir, { recursive: true });
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    pkg.scripts['build'] = 'node build.js';
    writeFileSync(
      path.join(dir, 'build.js'),
      "console.error('src/server.ts(3,7): error TS2322: the compiler says why');\nprocess.exit(2);\n",
    );
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is reported once, with the build’s own output, not repeated under each check with their hints', () => {
    const r = runCli(['check', '--workspace', dir, '--step', '1', '--services', 'local'], {
      env: { SANDBOX_STEPS_DIR: path.join(FIXTURES, 'steps') },
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^Your app could not be set up: npm run build failed \(exit 2\)/m);
    expect(r.stdout.split('error TS2322: the compiler says why')).toHaveLength(2);
    expect(r.stdout.match(/npm run build failed/g)).toHaveLength(1);
    expect(r.stdout).toMatch(
      /✗ GET \/health answers 200 \{"status":"ok"\}\s+0\/2\n\s+✗ unknown routes/,
    );
    expect(r.stdout).not.toContain('hint:');
    expect(r.stdout).toContain('Next: fix the setup problem above');
    const json = runCli(
      ['check', '--workspace', dir, '--step', '1', '--services', 'local', '--format', 'json'],
      { env: { SANDBOX_STEPS_DIR: path.join(FIXTURES, 'steps') } },
    );
    const result = JSON.parse(json.stdout) as { setupFailure?: { message: string; logs?: string } };
    expect(result.setupFailure?.message).toContain('npm run build failed (exit 2)');
    expect(result.setupFailure?.logs).toContain('the compiler says why');
  }, 120_000);
});
