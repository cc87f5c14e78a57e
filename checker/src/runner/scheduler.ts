/**
 * Admits checks once every check of the run has been queued: first every concurrent check, side
 * by side (at most `limit` at once), the highest `rank` first (the checks' time limits: those
 * that wait longest start first, so their waits overlap the others), in registration order among
 * equals; then every other check, alone, in registration order (those queued `last` after the
 * others): it waits until the checks before it have finished and holds back the ones after it. Nothing then waits in the middle of the run
 * for a check that must run alone, and the checks that disturb the app (stop a service, kill it)
 * come after the others. With a limit of 1 every check runs alone, in that same order: the
 * serial run. Concurrent checks leave their
 * clean-up (closing sockets, clearing faults) to `settle`, which runs before the next check that
 * runs alone. `retryAlone` puts a check that failed beside others ahead of every waiting check, to
 * run alone. A scheduler created `held` queues checks but admits none until `release()`.
 */
export class CheckScheduler {
  private readonly waiting: Waiter[] = [];
  private readonly retries: Waiter[] = [];
  private running = 0;
  private aloneRunning = false;
  private settling = false;
  private unsettled = false;
  private held: boolean;
  private queued = 0;
  private readonly total: () => number;

  /** `total`: how many checks the run has (default: those queued so far); none is admitted before all are queued. */
  constructor(
    private readonly limit: number,
    private readonly settle: () => Promise<void>,
    opts: { held?: boolean; total?: () => number } = {},
  ) {
    this.held = opts.held === true;
    this.total = opts.total ?? (() => this.queued);
  }

  /** Starts admitting checks (a scheduler created `held` admits none until then). */
  release(): void {
    this.held = false;
    this.admitNext();
  }

  schedule<T>(
    concurrent: boolean,
    work: () => Promise<T>,
    rank = 0,
    opts: { last?: boolean } = {},
  ): Promise<T> {
    this.queued += 1;
    return this.run(this.waiting, { concurrent, rank, last: opts.last === true }, work);
  }

  /** Runs `work` alone as soon as the checks running now have finished, before any waiting check. */
  retryAlone<T>(work: () => Promise<T>): Promise<T> {
    return this.run(this.retries, { concurrent: false, rank: 0, last: false }, work);
  }

  private async run<T>(
    queue: Waiter[],
    order: Pick<Waiter, 'concurrent' | 'rank' | 'last'>,
    work: () => Promise<T>,
  ): Promise<T> {
    await new Promise<void>((admit, refuse) => {
      queue.push({ ...order, admit, refuse });
      this.admitNext();
    });
    try {
      return await work();
    } finally {
      this.running -= 1;
      this.aloneRunning = false;
      this.admitNext();
    }
  }

  private admitNext(): void {
    while (!this.held && !this.settling && !this.aloneRunning) {
      const queue = this.retries.length > 0 ? this.retries : this.waiting;
      const at = this.nextIn(queue);
      if (at < 0) return;
      const next = queue[at]!;
      if (next.concurrent && this.limit > 1) {
        if (this.running >= this.limit) return;
      } else {
        if (this.running > 0) return;
        if (this.unsettled) return this.settleThenAdmit();
        this.aloneRunning = true;
      }
      if (next.concurrent) this.unsettled = true;
      queue.splice(at, 1);
      this.running += 1;
      next.admit();
    }
  }

  /** Where the next check to admit sits in `queue` (-1: none yet): a retry in order; else the concurrent check of highest rank, then the first other one not queued `last`, then the first one. */
  private nextIn(queue: Waiter[]): number {
    if (queue.length === 0) return -1;
    if (queue === this.retries) return 0;
    if (this.queued < this.total()) return -1;
    let best = -1;
    queue.forEach((w, i) => {
      if (w.concurrent && (best < 0 || w.rank > queue[best]!.rank)) best = i;
    });
    if (best >= 0) return best;
    const notLast = queue.findIndex((w) => !w.last);
    return notLast >= 0 ? notLast : 0;
  }

  private settleThenAdmit(): void {
    this.settling = true;
    this.unsettled = false;
    this.settle()
      .catch((e: unknown) => {
        const why = `cleanup after the previous checks failed: ${e instanceof Error ? e.message : String(e)}`;
        const queue = this.retries.length > 0 ? this.retries : this.waiting;
        const at = this.nextIn(queue);
        if (at >= 0) queue.splice(at, 1)[0]?.refuse(new Error(why));
      })
      .finally(() => {
        this.settling = false;
        this.admitNext();
      });
  }
}

interface Waiter {
  concurrent: boolean;
  /** Among concurrent checks, the higher is admitted first. */
  rank: number;
  /** Among the others, admitted after those not `last`. */
  last: boolean;
  admit: () => void;
  refuse: (e: Error) => void;
}
