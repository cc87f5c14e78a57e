import type { RunResult } from '../results/types';
import { formatGradescope } from './gradescope';
import { formatJson } from './json';
import { formatJunit } from './junit';
import { formatPretty } from './pretty';

export const FORMATS = ['pretty', 'json', 'junit', 'gradescope'] as const;
export type Format = (typeof FORMATS)[number];

export function formatResult(
  result: RunResult,
  format: Format,
  opts: { color: boolean; courseLength?: number },
): string {
  switch (format) {
    case 'pretty':
      return formatPretty(result, opts);
    case 'json':
      return formatJson(result);
    case 'junit':
      return formatJunit(result);
    case 'gradescope':
      return formatGradescope(result);
  }
}
