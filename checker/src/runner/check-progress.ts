import type { CheckOutcome, CheckRegistration } from '../harness/bridge';
import { outcomeKey, toCheckResult } from '../results/build';
import type { CheckResult } from '../results/types';
import { stepOfFile, type StepDefinition } from './steps';

/**
 * Tells the caller about checks in registration order, as a serial run would: a check that
 * finished early waits for the checks before it, and each step is announced before its first check.
 */
export class InOrderProgress {
  private readonly order: CheckRegistration[] = [];
  private readonly done = new Map<string, CheckOutcome>();
  private next = 0;
  private readonly announced = new Set<number>();

  constructor(
    private readonly steps: StepDefinition[],
    private readonly opts: {
      onProgress?: (message: string) => void;
      onCheck?: (step: StepDefinition, check: CheckResult) => void;
    },
  ) {}

  registered(check: CheckRegistration): void {
    this.order.push(check);
  }

  reported(file: string, name: string, outcome: CheckOutcome): void {
    this.done.set(outcomeKey(file, name), outcome);
    for (let r = this.order[this.next]; r; r = this.order[this.next]) {
      const outcome = this.done.get(outcomeKey(r.file, r.name));
      if (!outcome) return;
      this.next += 1;
      const step = stepOfFile(this.steps, r.file);
      if (!step) continue;
      if (!this.announced.has(step.number)) {
        this.announced.add(step.number);
        this.opts.onProgress?.(`Step ${step.number}: ${step.title} (${step.slug})`);
      }
      this.opts.onCheck?.(step, toCheckResult(r, outcome));
    }
  }
}
