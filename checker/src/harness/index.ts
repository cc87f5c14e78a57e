/** What check files import as `@sandbox/harness`. */
import type { RunContext } from './api';
import { readBridge, type FileBridge } from './bridge';
import { CheckFailure } from './failure';

export { check } from './check';
export * from './assert';
export { randomText } from './data';
export { together } from './http';
export type * from './api';
export { CheckFailure, isCheckFailure } from './failure';

/** The current run: the app under test, its database, Redis, mail sink and fault switches. */
export function sandbox(): RunContext {
  const found = readBridge<FileBridge>(globalThis);
  if (!found) throw new Error('sandbox() is only available inside `npx sandbox check`');
  if (!found.bridge.context)
    throw new CheckFailure(found.bridge.setupFailure?.message ?? 'the app could not be started');
  return found.bridge.context;
}
