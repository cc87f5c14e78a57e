import type { PrepareRun } from './run-types';
import { prepareRun } from './session';

/** The runtime's prepareRun (runner/session.ts): services, the app process, the RunContext. */
export function loadPrepareRun(): PrepareRun {
  return prepareRun;
}
