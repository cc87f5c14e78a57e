import type { Test } from '@jest/test-result';
import Sequencer from '@jest/test-sequencer';
import { readBridge, type RunBridge } from '../harness/bridge';

/** Runs check files in the run's order (steps in manifest order, files by name), never by jest's timing heuristics. */
export default class ManifestOrderSequencer extends Sequencer {
  override sort(tests: Array<Test>): Array<Test> {
    const order = readBridge<RunBridge>(globalThis)?.order ?? [];
    const rank = (t: Test): number => {
      const i = order.indexOf(t.path);
      return i === -1 ? Number.MAX_SAFE_INTEGER : i;
    };
    return [...tests].sort((a, b) => rank(a) - rank(b) || a.path.localeCompare(b.path));
  }
}
