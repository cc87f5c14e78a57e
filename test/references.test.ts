import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import semver from 'semver';
import { courseRoot, loadSteps } from '../checker/src/course/paths';
import {
  buildState,
  createStack,
  exportStack,
  hasReference,
  verifyReferences,
} from '../checker/src/course/references';

const root = courseRoot(__dirname);
const steps = loadSteps(root);
const readJson = (
  path: string,
): { dependencies?: Record<string, string>; devDependencies?: Record<string, string> } =>
  JSON.parse(readFileSync(path, 'utf8'));

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'course-references-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

describe('the starter', () => {
  it('pins every library reference-app uses, at a version its range accepts (patches never touch package.json)', () => {
    const starter = readJson(join(root, 'steps/starter/package.json'));
    const reference = readJson(join(root, 'reference-app/package.json'));
    const pinned = { ...starter.dependencies, ...starter.devDependencies };
    const wanted = { ...reference.dependencies, ...reference.devDependencies };
    const unmet = Object.entries(wanted).filter(([name, range]) => {
      const version = pinned[name];
      return !version || !semver.valid(version) || !semver.satisfies(version, range);
    });
    expect(unmet).toEqual([]);
  });
});

describe('steps/NN-slug/reference.patch', () => {
  it('exist for a prefix of the steps and apply in order to the starter', () => {
    const present = steps.map(hasReference);
    const prefix = present.indexOf(false) < 0 ? present.length : present.indexOf(false);
    expect(present.slice(prefix).every((p) => !p)).toBe(true);
    const state = join(tmp, 'state');
    buildState(state, prefix, root);
    expect(readFileSync(join(state, 'package.json'), 'utf8')).toContain('"start"');
    // Once all nine are written, the state after step 9 must be reference-app exactly.
    if (prefix === steps.length)
      expect(verifyReferences(root)).toEqual({ missing: [], differences: [] });
  });
});

describe('the stack workflow (course:stack, course:export, course:verify)', () => {
  function fakeCourse(): string {
    const fake = join(tmp, 'course');
    cpSync(join(root, 'steps'), join(fake, 'steps'), {
      recursive: true,
      filter: (p) => !p.endsWith('.patch'),
    });
    cpSync(join(root, 'reference-app/src'), join(fake, 'reference-app/src'), { recursive: true });
    return fake;
  }
  const git = (cwd: string, ...args: string[]): string =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t.test', ...args], {
      cwd,
      encoding: 'utf8',
    });

  it('round-trips: one commit per step exported as patches rebuilds reference-app exactly, and a drift is reported', () => {
    const fake = fakeCourse();
    const stack = join(tmp, 'stack');
    expect(createStack(stack, fake)).toEqual({ commits: 2, unassigned: true });
    // What a maintainer does with rebase -i, done mechanically: steps 1-8 empty, step 9 takes everything.
    git(stack, 'reset', '--quiet', '--soft', 'HEAD~1');
    git(stack, 'stash', 'push', '--quiet');
    for (const step of steps.slice(0, -1))
      git(stack, 'commit', '--quiet', '--allow-empty', '-m', step.folder);
    git(stack, 'stash', 'pop', '--quiet');
    git(stack, 'add', '-A');
    git(stack, 'commit', '--quiet', '-m', steps[steps.length - 1]?.folder ?? '');

    expect(exportStack(stack, fake)).toEqual(steps.map((s) => s.folder));
    expect(verifyReferences(fake)).toEqual({ missing: [], differences: [] });

    writeFileSync(join(fake, 'reference-app/src/drift.ts'), 'export const drift = 1;\n');
    expect(verifyReferences(fake).differences).toEqual([expect.stringContaining('drift.ts')]);
  });

  it('refuses to export a stack whose commits are not named after the steps in order', () => {
    const fake = fakeCourse();
    const stack = join(tmp, 'stack');
    createStack(stack, fake);
    expect(() => exportStack(stack, fake)).toThrow(/expected "01-hello-server"/);
  });
});
