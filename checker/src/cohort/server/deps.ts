import type { ArchiveLimits } from '../archive/limits';
import type { GradingQueue } from '../queue/grading-queue';
import type { Db } from '../store/db';
import type { SharedCountersConfig } from './sign-in-limits';

export interface CourseStep {
  number: number;
  slug: string;
  title: string;
}

/** What createCohortApp needs; everything is passed in, nothing is connected at import time. */
export interface CohortDeps {
  db: Db;
  queue: GradingQueue;
  limits: ArchiveLimits;
  /** The course's steps, in order (the grid's columns). */
  steps: CourseStep[];
  /** Unexpected errors and notable events (stderr in `sandbox serve`). */
  log: (message: string) => void;
  /** Signs the dashboard's session cookies (SANDBOX_SESSION_SECRET; the embedded service keeps one in its data folder). */
  sessionSecret?: string;
  /** Redis for the sign-in limits' counters, shared by every service process (in memory without it). */
  counters?: SharedCountersConfig;
  /** How often the event stream looks for new events (ms). */
  eventPollMs?: number;
}
