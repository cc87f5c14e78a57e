import type { RunContext } from '../harness/api';
import type { RunRuntime, TypeCheckResult } from '../results/types';
import type { RunOptions } from './session';

/** The runtime's prepareRun options, as the grading core uses them. */
export type PrepareOptions = RunOptions;

/** A prepared run: the RunContext checks see, optional per-check hooks, and its disposal. */
export interface PreparedRun {
  context: RunContext;
  /** How the workspace's code runs (the session's runtime reports it). */
  runtime?: RunRuntime;
  dispose(): Promise<void>;
  /** After the checks: stops the apps and the services while the type check finishes (dispose() waits for it). */
  release?(): Promise<void>;
  ensureAppRunning?(): Promise<void>;
  afterCheck?(): Promise<void>;
  /** The workspace's type check, once it ends (reported beside the grade, never part of it). */
  typeCheck?(): Promise<TypeCheckResult | undefined>;
}

export type PrepareRun = (opts: PrepareOptions) => Promise<PreparedRun>;

/** SetupError from session.ts, recognised by shape so it also works across module copies. */
export interface SetupErrorLike extends Error {
  kind: 'checker' | 'submission';
  code: string;
  logs?: string;
}

export function isSetupError(e: unknown): e is SetupErrorLike {
  if (!(e instanceof Error)) return false;
  const { kind, code } = e as Partial<SetupErrorLike>;
  return (kind === 'checker' || kind === 'submission') && typeof code === 'string';
}
