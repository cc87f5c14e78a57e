import { planContainment } from '../../sandbox/containment';
import { findPostgresBinaries, findRedisServer } from '../../services/binaries';
import type { WarmContainerServices } from '../../engine';

export type WorkerRuntime = 'process' | 'container';
export type WorkerRuntimeChoice = WorkerRuntime | 'auto';

/** Why the process runtime cannot contain a run on this machine, or undefined when it can. */
function processRuntimeUncontained(): string | undefined {
  try {
    const plan = planContainment('/');
    return plan.contained ? undefined : plan.reason;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * The runtime a worker grades in. `auto`: the process runtime where it contains runs here (root,
 * own uid per run, cgroups, network fence: `sandbox doctor`'s "Process runtime"), else the
 * container runtime. `process` where it cannot contain is refused: a worker never grades
 * other people's code uncontained.
 */
export function chooseWorkerRuntime(choice: WorkerRuntimeChoice): {
  runtime: WorkerRuntime;
  why: string;
} {
  if (choice === 'container') return { runtime: 'container', why: 'asked for' };
  const uncontained = processRuntimeUncontained();
  if (choice === 'process') {
    if (uncontained)
      throw new Error(
        `the process runtime cannot contain a run on this machine (${uncontained}); a worker grades only contained runs: use --runtime container, or see docs/grader.md`,
      );
    return { runtime: 'process', why: 'asked for' };
  }
  return uncontained
    ? { runtime: 'container', why: `the process runtime is not contained here: ${uncontained}` }
    : { runtime: 'process', why: 'contained on this machine' };
}

/** Postgres and Redis for one grading: admin URLs for the child's env, or none (the child's local services). */
export interface GradingServicesLease {
  urls?: { databaseUrl: string; redisUrl: string };
  release(): void;
}

/** Where a worker's gradings get Postgres and Redis. */
export interface GradingServices {
  /** What the worker says at start. */
  readonly description: string;
  warmUp(): void;
  take(): Promise<GradingServicesLease>;
  stop(): Promise<void>;
}

/**
 * Container runtime, or process runtime without Postgres/Redis binaries on this machine: the
 * worker's warm service containers (one Postgres kept, a fresh Redis container per grading).
 */
function containerServices(spares: number): GradingServices {
  const { WarmContainerServices: Warm } = require('../../engine') as typeof import('../../engine');
  const warm: WarmContainerServices = new Warm({ spares });
  return {
    description: 'service containers (a Postgres kept, a fresh Redis per grading)',
    warmUp: () => warm.warmUp(),
    take: async () => {
      const lease = await warm.take();
      return {
        urls: { databaseUrl: lease.databaseUrl, redisUrl: lease.redisUrl },
        release: () => lease.release(),
      };
    },
    stop: () => warm.stop(),
  };
}

/**
 * Process runtime: what `sandbox check` uses. The warm private Postgres of `sandbox services up`
 * (started if it is not up, and left up for the next worker or check, like `services up`), with
 * run databases and redis-servers made ahead; each grading takes its own database, role and
 * redis-server. No container engine is needed. With SANDBOX_WARM_SERVICES=off, each grading
 * starts a private Postgres of its own.
 */
function localServices(): GradingServices {
  const warm = (): typeof import('../../services/warm-postgres') =>
    require('../../services/warm-postgres') as typeof import('../../services/warm-postgres');
  const off = process.env['SANDBOX_WARM_SERVICES'] === 'off';
  let starting: Promise<unknown> = Promise.resolve();
  const ensure = (): Promise<unknown> =>
    off
      ? Promise.resolve()
      : (starting = starting.catch(() => undefined).then(() => warm().startWarmPostgres()));
  return {
    description: off
      ? 'a private Postgres and redis-server per grading (SANDBOX_WARM_SERVICES=off)'
      : 'the warm private Postgres (`sandbox services up`; left up) and a redis-server per grading',
    warmUp: () => void ensure().catch(() => undefined),
    // Checked (and started again if it went away) before each grading: it is a file and a pid when up.
    take: async () => {
      await ensure();
      return { release: () => undefined };
    },
    stop: () =>
      starting.then(
        () => undefined,
        () => undefined,
      ),
  };
}

/** The services for a worker's runtime and concurrency. */
export function gradingServices(runtime: WorkerRuntime, concurrency: number): GradingServices {
  if (runtime === 'process' && findPostgresBinaries() && findRedisServer()) return localServices();
  return containerServices(concurrency);
}
