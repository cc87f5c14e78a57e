import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FIXTURES, runCli } from './support/run-child';

const env = { SANDBOX_STEPS_DIR: path.join(FIXTURES, 'steps') };

describe('what the app sends cannot take over the terminal', () => {
  it('a body and a log with escape sequences, CR and backspace are shown escaped by the pretty reporter', () => {
    const r = runCli(
      [
        'check',
        '--workspace',
        path.join(FIXTURES, 'hostile-body'),
        '--step',
        '2',
        '--only',
        '--services',
        'local',
      ],
      { env },
    );
    expect(r.code).toBe(1);
    // No raw control character reaches the terminal (NO_COLOR: the reporter adds none of its own).
    // eslint-disable-next-line no-control-regex -- the point of the test
    expect(r.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f\u202e]/);
    expect(r.stdout).toContain(
      '\\x1b[2J\\x1b[H\\x1b[32m13 passed, 0 failed · score 13/13\\x1b[39m\\r\\x08\\x07',
    );
    expect(r.stdout).toContain('\\x1b]0;owned\\x07\\u202eevil');
    expect(r.stdout).toContain('(from the log)');
    // The forged summary never stands on a line of its own; the real one does.
    expect(r.stdout.split('\n').filter((l) => l.startsWith('13 passed'))).toEqual([]);
    expect(r.stdout).toMatch(/^0 passed, 1 failed · score 0\/3/m);
  }, 120_000);
});

describe('--out never writes through a symbolic link', () => {
  let tmp: string;
  let outside: string;
  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'sandbox-out-link-'));
    outside = path.join(tmp, 'precious.txt');
    writeFileSync(outside, 'precious');
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  const check = (out: string): ReturnType<typeof runCli> =>
    runCli(
      [
        'check',
        '--workspace',
        path.join(FIXTURES, 'tiny-app'),
        '--step',
        '1',
        '--format',
        'junit',
        '--out',
        out,
      ],
      { env },
    );

  it('refuses an --out FILE that is a link, before grading, and leaves its target alone', () => {
    const link = path.join(tmp, 'report.xml');
    symlinkSync(outside, link);
    const r = check(link);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--out ${link} is a symbolic link: give the real path.`);
    expect(readFileSync(outside, 'utf8')).toBe('precious');
  });

  it('refuses a folder link planted in a folder anyone can write to (like /tmp)', () => {
    const shared = path.join(tmp, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
    const victim = path.join(tmp, 'victim');
    mkdirSync(path.join(victim, 'sub'), { recursive: true });
    symlinkSync(victim, path.join(shared, 'reports'));
    const r = check(path.join(shared, 'reports', 'sub', 'report.xml'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${path.join(shared, 'reports')} is a symbolic link in ${shared}, which anyone can write to: give the real path.`,
    );
    expect(readdirSync(path.join(victim, 'sub'))).toEqual([]);
  });
});
