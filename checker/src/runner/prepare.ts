import path from 'node:path';
import type { PrepareRun } from './run-types';

/** The runtime's prepareRun (runner/session.ts), loaded when a run starts so the grading core does not depend on it at import time. */
export function loadPrepareRun(): PrepareRun {
  const file = path.join(__dirname, 'session');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(file) as { prepareRun?: PrepareRun };
  if (typeof mod.prepareRun !== 'function') throw new Error(`${file} does not export prepareRun`);
  return mod.prepareRun;
}
