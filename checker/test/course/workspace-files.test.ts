import {
  lstatSync,
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
import {
  readFeedback,
  readProgress,
  recordRun,
  revealHint,
  writeProgress,
} from '../../src/course/progress';
import type { StepInfo } from '../../src/course/paths';
import type { RunResult } from '../../src/results/types';
import { readWorkspace } from '../../src/workspace/workspace';

const SECRET = 'TOP-SECRET-outside-the-workspace';

function runResult(status: 'pass' | 'fail'): RunResult {
  return {
    schemaVersion: 1,
    status,
    score: status === 'pass' ? 2 : 0,
    maxScore: 2,
    workspace: '/w',
    startedAt: new Date().toISOString(),
    durationMs: 1,
    services: 'local',
    runtime: { kind: 'process', contained: false },
    steps: [
      {
        number: 1,
        slug: 'hello',
        title: 'Hello',
        status,
        score: status === 'pass' ? 2 : 0,
        maxScore: 2,
        checks: [
          {
            name: 'GET /health answers 200',
            status,
            points: status === 'pass' ? 2 : 0,
            maxPoints: 2,
            message: '',
            hint: '',
            durationMs: 1,
          },
        ],
      },
    ],
  };
}

const step: StepInfo = { number: 1, slug: 'hello', title: 'Hello', folder: '01-hello', dir: '/x' };

describe('.sandbox files in a workspace never follow links', () => {
  let tmp: string;
  let workspace: string;
  let outside: string;
  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'sandbox-links-'));
    workspace = path.join(tmp, 'ws');
    outside = path.join(tmp, 'outside.txt');
    mkdirSync(path.join(workspace, '.sandbox'), { recursive: true });
    writeFileSync(outside, SECRET);
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  it('a progress.json planted as a link to a file outside: the file is untouched, the link replaced by a file, its content never quoted', () => {
    const progress = path.join(workspace, '.sandbox', 'progress.json');
    symlinkSync(outside, progress);
    const warnings: string[] = [];
    expect(readProgress(workspace, (w) => warnings.push(w))).toEqual({
      version: 1,
      steps: {},
      hints: {},
    });
    expect(warnings.join('\n')).toContain(
      '.sandbox/progress.json in the workspace is a symbolic link',
    );
    expect(warnings.join('\n')).not.toContain(SECRET);
    recordRun(workspace, runResult('fail'));
    expect(readFileSync(outside, 'utf8')).toBe(SECRET);
    expect(lstatSync(progress).isSymbolicLink()).toBe(false);
    expect(readProgress(workspace).steps['hello']?.status).toBe('fail');
  });

  it('a progress.json.tmp planted as a link: nothing is written through it, no temp file is left', () => {
    symlinkSync(outside, path.join(workspace, '.sandbox', 'progress.json.tmp'));
    writeProgress(workspace, { version: 1, steps: {}, hints: { hello: 1 } });
    expect(readFileSync(outside, 'utf8')).toBe(SECRET);
    expect(readdirSync(path.join(workspace, '.sandbox')).sort()).toEqual([
      'progress.json',
      'progress.json.tmp',
    ]);
  });

  it('a .sandbox folder that is a link to a folder outside: nothing is written there, and the error names the link only', () => {
    rmSync(path.join(workspace, '.sandbox'), { recursive: true });
    const elsewhere = path.join(tmp, 'elsewhere');
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, path.join(workspace, '.sandbox'));
    expect(() => revealHint(workspace, step, 3)).toThrow(
      '.sandbox in the workspace is a symbolic link: the checker does not use it',
    );
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it('a damaged feedback.json (trailing comma) is named with its line, not quoted; the progress still reads', () => {
    writeFileSync(
      path.join(workspace, '.sandbox', 'feedback.json'),
      `[\n  {"author": "${SECRET}", "message": "hi", "at": "2026-01-01"},\n]\n`,
    );
    recordRun(workspace, runResult('pass'));
    const warnings: string[] = [];
    expect(readFeedback(workspace, (w) => warnings.push(w))).toEqual([]);
    expect(warnings).toEqual([
      `.sandbox${path.sep}feedback.json is not valid JSON: line 3, column 1: value expected; mentor feedback is not shown.`,
    ]);
    expect(readProgress(workspace).steps['hello']?.status).toBe('pass');
  });

  it('a damaged progress.json is shown as empty with its line named, and kept aside when the next run is recorded', () => {
    const progress = path.join(workspace, '.sandbox', 'progress.json');
    writeFileSync(progress, `{"steps": {"hello": ${SECRET}}}`);
    const warnings: string[] = [];
    expect(readProgress(workspace, (w) => warnings.push(w)).steps).toEqual({});
    expect(warnings[0]).toMatch(/progress\.json is not valid JSON: line 1, column 21/);
    expect(warnings[0]).not.toContain(SECRET);
    recordRun(workspace, runResult('fail'));
    expect(readFileSync(`${progress}.damaged`, 'utf8')).toContain(SECRET);
    expect(readProgress(workspace).steps['hello']?.status).toBe('fail');
  });

  it('a step that passed keeps its passedAt when a later run fails it', () => {
    recordRun(workspace, runResult('pass'));
    recordRun(workspace, runResult('fail'));
    const hello = readProgress(workspace).steps['hello'];
    expect([hello?.status, typeof hello?.passedAt]).toEqual(['fail', 'string']);
  });

  it('package.json as a link, or damaged: the message names the file and line, never its content', () => {
    const pkg = path.join(workspace, 'package.json');
    symlinkSync(outside, pkg);
    expect(() => readWorkspace(workspace)).toThrow(
      'package.json in the workspace is a symbolic link: the checker does not use it',
    );
    rmSync(pkg);
    writeFileSync(pkg, `{"scripts": {"start": ${SECRET}}}`);
    let message = '';
    try {
      readWorkspace(workspace);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^package\.json is not valid JSON: line 1, column 23/);
    expect(message).not.toContain(SECRET);
  });
});
