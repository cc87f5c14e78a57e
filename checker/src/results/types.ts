/** The result document of one grading run (documented by checker/schema/result.schema.json). */

export const RESULT_SCHEMA_VERSION = 1;

export type CheckStatus = 'pass' | 'fail' | 'error';
export type RunStatus = 'pass' | 'fail' | 'error';
export type ServicesMode = 'auto' | 'local' | 'containers';

/** The parts of a CheckFailure, kept so reporters can lay them out (the message has them as text too). */
export interface FailureDetails {
  summary: string;
  request?: { method: string; url: string; headers: Record<string, string>; body?: string };
  response?: { status: number; headers: Record<string, string>; body: string };
  expected?: string;
  observed?: string;
  /** The app's last log lines, when the failure makes them relevant. */
  logs?: string;
}

export interface CheckResult {
  name: string;
  status: CheckStatus;
  points: number;
  maxPoints: number;
  /** Empty when the check passed. */
  message: string;
  hint: string;
  durationMs: number;
  details?: FailureDetails;
}

export interface StepResult {
  number: number;
  slug: string;
  title: string;
  status: CheckStatus;
  score: number;
  maxScore: number;
  checks: CheckResult[];
}

/** How the learner's code ran. contained: every learner-controlled process ran in the run's sandbox (own uid, cgroups, network fence; or the app container). */
export interface RunRuntime {
  readonly kind: 'process' | 'container';
  readonly contained: boolean;
  /** Why the run was not contained (or a note on how it was). */
  readonly reason?: string;
}

/** One error of the workspace's type check, as the compiler reported it (file relative to the workspace). */
export interface TypeCheckDiagnostic {
  /** Empty for an error about the project itself (a tsconfig option, a missing file). */
  file: string;
  line: number;
  column: number;
  /** The compiler's code, e.g. TS2322. */
  code: string;
  message: string;
}

/**
 * The workspace's own `tsc --noEmit`, run beside the checks when the workspace has TypeScript and
 * a tsconfig.json. Reported, never graded: the grade is what the app does.
 */
export interface TypeCheckResult {
  /** pass: no error; fail: errors; error: it could not finish (time limit, run stopped, tsc crashed). */
  status: 'pass' | 'fail' | 'error';
  /** Every error tsc reported; `errors` holds the first ones. */
  errorCount: number;
  errors: TypeCheckDiagnostic[];
  /** With status error: why. */
  message?: string;
  durationMs: number;
  /** The same sources were type-checked before: their result, not run again. */
  cached: boolean;
}

export interface RunResult {
  schemaVersion: typeof RESULT_SCHEMA_VERSION;
  status: RunStatus;
  score: number;
  maxScore: number;
  workspace: string;
  startedAt: string;
  durationMs: number;
  services: ServicesMode;
  runtime: RunRuntime;
  steps: StepResult[];
  /**
   * Where the time went, in ms: total, setup (setup.*, services.*), jest (started beside the setup;
   * jest.start = until the first check registered), checks (from the end of the setup to jest's
   * end), step.<slug> (the sum of its checks' times), dispose.
   */
  timings?: Record<string, number>;
  /**
   * The app could not be set up (install, build or start failed): every check failed with this
   * message without running; the tool's own output is here, once, not under each check.
   */
  setupFailure?: { message: string; logs?: string };
  /** The workspace's type check (`sandbox check` only; batch grading does not run it): reported, not graded. */
  typeCheck?: TypeCheckResult;
  /** Why the run could not grade (status error), or what stopped it early. */
  error?: { code: string; message: string; logs?: string };
}
