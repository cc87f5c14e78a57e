import {
  contractSentences,
  coverageReport,
  type CoverageFile,
} from '../checker/src/course/coverage';
import { ROOT } from './support/grade-workspace';

/** The untestable list stays short: each entry needs a reason, and a new one should be rare. */
const MAX_UNTESTABLE = 8;

describe('the coverage map (steps/coverage.json)', () => {
  const report = coverageReport(ROOT);

  it('maps every normative contract sentence to checks and to broken cases they catch, or says why not', () => {
    expect(report.problems).toEqual([]);
  });

  it('keeps the untestable list short', () => {
    expect(report.untestable).toBeLessThanOrEqual(MAX_UNTESTABLE);
    expect(report.covered + report.untestable).toBe(report.sentences);
  });

  it('finds the contract sentences it is meant to find', () => {
    const sentences = contractSentences(ROOT);
    expect(sentences.length).toBeGreaterThan(50);
    expect(sentences).toContain('Signup answers without waiting for SMTP.');
    expect(sentences.some((s) => s.startsWith('429 | `RATE_LIMITED`'))).toBe(true);
  });

  it('reports a sentence without a check, an unknown check and a case its checks do not catch', () => {
    const [first, ...rest] = contractSentences(ROOT);
    const map: CoverageFile = {
      sentences: [
        { text: rest[0] ?? '', checks: ['hello-server/no such check'], cases: ['bad-json-is-500'] },
      ],
      untestable: [],
    };
    const problems = coverageReport(ROOT, map).problems.join('\n');
    expect(problems).toContain(`no check for the contract sentence: "${first}"`);
    expect(problems).toContain('unknown check "hello-server/no such check"');
    expect(problems).toContain('test/broken/bad-json-is-500 is not caught');
  });
});
