import type { RunResult } from '../results/types';

export function formatJson(result: RunResult): string {
  return `${JSON.stringify(result, null, 2)}\n`;
}
