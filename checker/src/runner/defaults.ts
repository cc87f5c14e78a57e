/** A grading run's defaults, in a module of their own so the CLI can show them without loading the runner. */

/** Time limit of a whole run, in seconds (`--timeout`). */
export const DEFAULT_TIMEOUT_SECONDS = 300;
/** How many concurrent checks run at once against the app: they mostly wait on it, not compute. */
export const DEFAULT_CONCURRENCY = 4;
