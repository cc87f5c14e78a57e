/**
 * Admits checks in the order they were registered. A concurrent check runs beside the other
 * concurrent checks (at most `limit` at once); any other check waits until every check before
 * it has finished, runs alone, and holds back every check after it. With a limit of 1 every
 * check runs alone, in order: the serial run. Concurrent checks leave their clean-up (closing
 * sockets, clearing faults) to `settle`, which runs before the next check that runs alone.
 * `retryAlone` puts a check that failed beside others ahead of every waiting check, to run alone.
 * A scheduler created `held` queues checks in order but admits none until `release()`.
 */
export class CheckScheduler {
  private readonly waiting: Waiter[] = [];
  private readonly retries: Waiter[] = [];
  private running = 0;
  private aloneRunning = false;
  private settling = false;
  private unsettled = false;
  private held: boolean;

  constructor(
    private readonly limit: number,
    private readonly settle: () => Promise<void>,
    opts: { held?: boolean } = {},
  ) {
    this.held = opts.held === true;
  }

  /** Starts admitting checks (a scheduler created `held` admits none until then). */
  release(): void {
    this.held = false;
    this.admitNext();
  }

  schedule<T>(concurrent: boolean, work: () => Promise<T>): Promise<T> {
    return this.run(this.waiting, concurrent, work);
  }

  /** Runs `work` alone as soon as the checks running now have finished, before any waiting check. */
  retryAlone<T>(work: () => Promise<T>): Promise<T> {
    return this.run(this.retries, false, work);
  }

  private async run<T>(queue: Waiter[], concurrent: boolean, work: () => Promise<T>): Promise<T> {
    await new Promise<void>((admit, refuse) => {
      queue.push({ concurrent, admit, refuse });
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
      const next = queue[0];
      if (!next) return;
      if (next.concurrent && this.limit > 1) {
        if (this.running >= this.limit) return;
      } else {
        if (this.running > 0) return;
        if (this.unsettled) return this.settleThenAdmit();
        this.aloneRunning = true;
      }
      if (next.concurrent) this.unsettled = true;
      queue.shift();
      this.running += 1;
      next.admit();
    }
  }

  private settleThenAdmit(): void {
    this.settling = true;
    this.unsettled = false;
    this.settle()
      .catch((e: unknown) => {
        const why = `cleanup after the previous checks failed: ${e instanceof Error ? e.message : String(e)}`;
        (this.retries.length > 0 ? this.retries : this.waiting).shift()?.refuse(new Error(why));
      })
      .finally(() => {
        this.settling = false;
        this.admitNext();
      });
  }
}

interface Waiter {
  concurrent: boolean;
  admit: () => void;
  refuse: (e: Error) => void;
}
