import { brokenCaseNames, describeBrokenCases } from './support/broken-catalogue';

// The broken catalogue, first half (the second: broken-2.test.ts, run beside it by jest's other worker).
it('the catalogue holds at least 50 broken submissions', () => {
  expect(brokenCaseNames.length).toBeGreaterThanOrEqual(50);
});

describeBrokenCases(0, 2);
