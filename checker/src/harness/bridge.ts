import type { RunContext } from './api';
import type { CheckStatus, FailureDetails } from '../results/types';

/**
 * How the grading run (outer realm) and the check files (jest's realm) talk: the runner puts a
 * RunBridge on the outer globalThis under RUN_KEY; the test environment copies it, with the
 * path of the file being run, onto the check file's global. Symbol.for is shared by both realms.
 */
export const RUN_KEY = Symbol.for('backend-sandbox.run');

export interface CheckRegistration {
  file: string;
  name: string;
  points: number;
  hint: string;
  timeoutMs: number;
  /** May run alongside other concurrent checks (CheckMeta.concurrent). */
  concurrent: boolean;
}

export interface CheckOutcome {
  status: CheckStatus;
  message: string;
  durationMs: number;
  details?: FailureDetails;
  /** Overrides the registered hint (a CheckFailure may carry a more specific one). */
  hint?: string;
  /** A failure no other check could have caused (CheckFailure's `definite`): not run again alone. */
  definite?: boolean;
}

export interface RunBridge {
  /** null when the submission could not be set up: every check then fails with `setupFailure`. */
  readonly context: RunContext | null;
  readonly setupFailure: { message: string; logs?: string } | null;
  /** Absolute paths of the check files, in the order they must run. */
  readonly order: readonly string[];
  /** Before each check: the app is up (restarted if a previous check left it stopped). */
  beforeCheck(): Promise<void>;
  /** After each check: extra instances stopped, faults cleared. */
  afterCheck(): Promise<void>;
  /**
   * Runs a check's work when its turn comes (runner/scheduler.ts): concurrent checks first,
   * beside each other, the longest time limit first; then the others alone, in registration
   * order, those that stop the app last. Rejects when the clean-up owed by the checks before it failed.
   */
  schedule<T>(
    check: { concurrent: boolean; timeoutMs: number; stopsApp: boolean },
    work: () => Promise<T>,
  ): Promise<T>;
  /** Runs a check's work again, alone, before any waiting check (a concurrent check that did not pass). */
  retryAlone<T>(work: () => Promise<T>): Promise<T>;
  /** A check file that threw while it was loaded: it registers nothing and shows this instead. */
  loadFailed(file: string, message: string): void;
  /** Why no more checks may run (time limit, interrupted), or null. */
  stopReason(): string | null;
  register(check: CheckRegistration): void;
  report(file: string, name: string, outcome: CheckOutcome): void;
}

/** What the environment puts on the jest test file's global. */
export interface FileBridge {
  bridge: RunBridge;
  /** The check file being loaded: set by the entry file before it loads each one (see checks.entry.ts). */
  testPath: string;
}

type SymbolIndexed = Record<symbol, unknown>;

export function installBridge(target: object, value: unknown): void {
  (target as SymbolIndexed)[RUN_KEY] = value;
}

export function readBridge<T>(source: object): T | undefined {
  return (source as SymbolIndexed)[RUN_KEY] as T | undefined;
}

export function removeBridge(target: object): void {
  delete (target as SymbolIndexed)[RUN_KEY];
}
