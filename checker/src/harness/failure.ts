import type { Exchange } from './api';

/**
 * The one error a check throws when the app misbehaves. Reporters print each part:
 * what was sent, what came back, what was expected, and (from the check's meta) what to try.
 */
export class CheckFailure extends Error {
  override readonly name = 'CheckFailure';
  constructor(
    /** One line: what is wrong, e.g. "GET /health answered 500, expected 200". */
    readonly summary: string,
    readonly details: {
      /** The exchange that showed the problem, if any. */
      exchange?: Exchange;
      /** What was expected, in words or as a JSON-ish sketch. */
      expected?: string;
      /** Anything else worth showing: a DB row, a Redis TTL, app logs... */
      observed?: string;
      /** Overrides the check's hint when this failure has a more specific one. */
      hint?: string;
      /**
       * true: no other check could have caused this failure, whatever ran beside it (the app
       * never once did what the check waits for, in the whole run so far), so a check that
       * fails this way beside others is not run again alone (CheckMeta.concurrent). Only for
       * facts load cannot change: never a time limit the app missed while it was working.
       */
      definite?: boolean;
    } = {},
  ) {
    super(summary);
  }
}

export function isCheckFailure(e: unknown): e is CheckFailure {
  return e instanceof Error && e.name === 'CheckFailure' && 'summary' in e;
}
