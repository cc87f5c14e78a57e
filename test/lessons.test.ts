import { readFileSync } from 'node:fs';
import {
  contractSection,
  contractTerms,
  lessonContract,
  sameContract,
} from '../checker/src/course/contract';
import { lessonPath, loadSteps, courseRoot } from '../checker/src/course/paths';
import { parseHints } from '../checker/src/course/lesson';

const root = courseRoot(__dirname);
const steps = loadSteps(root);
const SECTIONS = [
  '## Goal',
  '## The contract',
  '## Concepts',
  '## Hints',
  '## How to check',
  '## What a mentor looks for',
];

describe.each(steps.map((s) => [s.folder, s] as const))('lesson %s', (_folder, step) => {
  const lesson = readFileSync(lessonPath(step), 'utf8');

  it('has the sections a learner expects, in order', () => {
    const positions = SECTIONS.map((heading) => lesson.indexOf(`\n${heading}\n`));
    expect(positions.every((p) => p > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it("copies the step's section of steps/CONTRACT.md verbatim (npm run course:sync-contract)", () => {
    const copied = lessonContract(lesson);
    expect(copied).toBeDefined();
    if (!sameContract(copied, contractSection(root, step)))
      expect(copied).toBe(contractSection(root, step));
  });

  it('names every route, error code and status code of its contract section', () => {
    const terms = contractTerms(contractSection(root, step));
    expect(terms.length).toBeGreaterThan(0);
    expect(terms.filter((t) => !lesson.includes(t))).toEqual([]);
  });

  it('names the variables the contract introduces at this step', () => {
    const contract = readFileSync(`${root}/steps/CONTRACT.md`, 'utf8');
    const introduced = [...contract.matchAll(/^\| `([A-Z_]+)` \| [^|]*\(step (\d+)\+\)/gm)]
      .filter((m) => Number(m[2]) === step.number)
      .map((m) => m[1] ?? '');
    expect(introduced.filter((v) => !lesson.includes(`\`${v}\``))).toEqual([]);
  });

  it('has exactly three non-empty hints under "### Hint 1..3"', () => {
    const hints = parseHints(lesson);
    expect(hints).toHaveLength(3);
    expect(hints.every((h) => h.length > 40)).toBe(true);
  });

  it(`says how to check: npx sandbox check --step ${step.number}`, () => {
    expect(lesson).toContain(`npx sandbox check --step ${step.number}`);
  });
});
