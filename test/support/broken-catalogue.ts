import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  BROKEN_DIR,
  brokenWorkspace,
  failing,
  gradeWorkspace,
  outcomes,
  removeWorkspace,
  setupFailure,
} from './grade-workspace';

/** test/broken/NAME/expected.json: the step to grade up to, and exactly the checks that must fail (or "all"). */
interface Expected {
  step: string;
  fails: 'all' | { check: string; message: string }[];
}

export const brokenCaseNames = readdirSync(BROKEN_DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

/**
 * Every `parts`-th case of the catalogue, from `part` (0-based): the catalogue is the longest
 * suite, so it is split over test files that jest's two workers run side by side.
 */
export function describeBrokenCases(part: number, parts: number): void {
  const names = brokenCaseNames.filter((_, i) => i % parts === part);
  describe(`broken submissions fail exactly the checks they should (part ${part + 1} of ${parts})`, () => {
    it.each(names)(
      '%s',
      async (name) => {
        const expected = JSON.parse(
          readFileSync(path.join(BROKEN_DIR, name, 'expected.json'), 'utf8'),
        ) as Expected;
        const dir = brokenWorkspace(name);
        try {
          // Graded on its step alone (--only) when every expected failure is in that step: that is
          // what the case proves; re-running the earlier steps would only add time to CI.
          const only =
            expected.fails !== 'all' &&
            expected.fails.every((f) => f.check.startsWith(`${expected.step}/`));
          const result = await gradeWorkspace(dir, expected.step, { only });
          const all = outcomes(result);
          expect(all.size).toBeGreaterThan(0);
          if (expected.fails === 'all') {
            expect(failing(result)).toEqual([...all.keys()].sort());
            return;
          }
          expect(setupFailure(result)).toBeUndefined();
          expect(failing(result)).toEqual(expected.fails.map((f) => f.check).sort());
          for (const f of expected.fails) expect(all.get(f.check)?.message).toContain(f.message);
        } finally {
          removeWorkspace(dir);
        }
      },
      300_000,
    );
  });
}
