import {
  failing,
  gradeWorkspace,
  outcomes,
  REFERENCE,
  setupFailure,
} from './support/grade-workspace';

describe('the reference app', () => {
  it('passes every check of every step, with identical results on a second, serial run', async () => {
    const first = await gradeWorkspace(REFERENCE);
    expect(setupFailure(first)).toBeUndefined();
    expect(failing(first)).toEqual([]);
    expect(first.score).toBe(first.maxScore);
    expect(outcomes(first).size).toBeGreaterThanOrEqual(40);
    // Checks run side by side by default; one after the other they must grade the same.
    const second = await gradeWorkspace(REFERENCE, undefined, { serial: true });
    expect(setupFailure(second)).toBeUndefined();
    expect(second.score).toBe(first.score);
    expect([...outcomes(second)].map(([id, o]) => `${id}=${o.status}`)).toEqual(
      [...outcomes(first)].map(([id, o]) => `${id}=${o.status}`),
    );
  }, 600_000);
});
