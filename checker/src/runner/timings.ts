/** Where a run's time goes: named phases in milliseconds, reported as the result's `timings`. */
export type OnTiming = (phase: string, ms: number) => void;

export class Timings {
  private readonly phases: Record<string, number> = {};

  readonly record: OnTiming = (phase, ms) => {
    this.phases[phase] = (this.phases[phase] ?? 0) + Math.max(0, Math.round(ms));
  };

  snapshot(): Record<string, number> {
    return { ...this.phases };
  }
}

/** Runs `work` and reports how long it took under `phase` (also when it fails). */
export async function timed<T>(
  onTiming: OnTiming | undefined,
  phase: string,
  work: () => Promise<T>,
): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    onTiming?.(phase, performance.now() - started);
  }
}
