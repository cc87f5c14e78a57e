/**
 * The one jest test file of a grading run. It loads the run's check files in the run's order,
 * so that all their checks live in one realm and the scheduler can run them side by side.
 * A check file that throws while loading is reported as that file's error; the others still run.
 */
import { jest } from '@jest/globals';
import { readBridge, type FileBridge } from './bridge';

const found = readBridge<FileBridge>(globalThis);
if (!found) throw new Error('the checks entry runs through `npx sandbox check`, not jest directly');
for (const file of found.bridge.order) {
  found.testPath = file;
  try {
    jest.requireActual(file);
  } catch (e) {
    found.bridge.loadFailed(file, e instanceof Error ? `${e.name}: ${e.message}` : String(e));
  }
}
