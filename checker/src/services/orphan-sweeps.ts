/**
 * Sweeps of what SIGKILLed checkers left (run dirs, run databases) run off a run's hot path: in
 * the background, at most once per SWEEP_INTERVAL_MS per process and target, so a one-shot
 * `sandbox check` still sweeps at its start and a long-lived worker keeps sweeping.
 */
export const SWEEP_INTERVAL_MS = 60_000;

const last = new Map<string, { at: number; done: Promise<void> }>();

/**
 * Starts `sweep` for `key` unless one started less than SWEEP_INTERVAL_MS ago; returns the
 * current sweep's completion (it never rejects: a failed sweep is retried by a later one), so a
 * run can wait for it when it ends instead of leaving it running.
 */
export function sweepInBackground(key: string, sweep: () => Promise<unknown>): Promise<void> {
  const now = Date.now();
  const previous = last.get(key);
  if (previous && now - previous.at < SWEEP_INTERVAL_MS) return previous.done;
  const entry = { at: now, done: Promise.resolve() };
  entry.done = sweep().then(
    () => undefined,
    () => {
      if (last.get(key) === entry) last.delete(key); // failed: the next run tries again
    },
  );
  last.set(key, entry);
  return entry.done;
}
