/**
 * The checker's assertion library: one assertion per concern. Each throws a CheckFailure
 * carrying the exchange (what was sent, what came back), what was expected and what was
 * observed, so a learner can see at a glance what to fix.
 */
import type { Exchange } from './api';
import { CheckFailure, isCheckFailure } from './failure';

type FailureDetails = ConstructorParameters<typeof CheckFailure>[1];

/** Throws a CheckFailure. */
export function fail(summary: string, details: FailureDetails = {}): never {
  throw new CheckFailure(summary, details);
}

/** Fails with `summary` unless `condition` holds. */
export function ensure(
  condition: unknown,
  summary: string,
  details: FailureDetails = {},
): asserts condition {
  if (!condition) fail(summary, details);
}

/* ------------------------------------------------------------------ matchers */

/** A named predicate usable anywhere an expected value is (expectJsonBody, expectShape). */
export interface Matcher {
  readonly __matcher: true;
  readonly describe: string;
  test(value: unknown): boolean;
  /** What was wrong with a value that failed the test, when more can be said than the value itself. */
  explain?(value: unknown): string;
}

function matcher(
  describe: string,
  test: (value: unknown) => boolean,
  explain?: (value: unknown) => string,
): Matcher {
  return { __matcher: true, describe, test, ...(explain ? { explain } : {}) };
}

export function isMatcher(v: unknown): v is Matcher {
  return typeof v === 'object' && v !== null && (v as { __matcher?: unknown }).__matcher === true;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;

/** Building blocks for expected values: `{ user: { id: is.uuid, createdAt: is.isoDate } }`. */
export const is = {
  any: matcher('anything', () => true),
  present: matcher('any value', (v) => v !== undefined),
  absent: matcher('no such field', (v) => v === undefined),
  string: matcher('a string', (v) => typeof v === 'string'),
  nonEmptyString: matcher('a non-empty string', (v) => typeof v === 'string' && v.length > 0),
  number: matcher('a number', (v) => typeof v === 'number' && Number.isFinite(v)),
  integer: matcher('an integer', (v) => Number.isInteger(v)),
  boolean: matcher('a boolean', (v) => typeof v === 'boolean'),
  uuid: matcher('a UUID', (v) => typeof v === 'string' && UUID.test(v)),
  isoDate: matcher(
    'an ISO 8601 date-time',
    (v) => typeof v === 'string' && ISO_8601.test(v) && !Number.isNaN(Date.parse(v)),
  ),
  array: matcher('an array', (v) => Array.isArray(v)),
  object: matcher('an object', (v) => typeof v === 'object' && v !== null && !Array.isArray(v)),
  nullable(inner: unknown): Matcher {
    return matcher(
      `null or ${describeExpected(inner)}`,
      (v) => v === null || diff(v, inner).length === 0,
    );
  },
  oneOf(...values: unknown[]): Matcher {
    return matcher(`one of ${values.map((x) => describeExpected(x)).join(', ')}`, (v) =>
      values.some((x) => diff(v, x).length === 0),
    );
  },
  matching(re: RegExp): Matcher {
    return matcher(`a string matching ${re}`, (v) => typeof v === 'string' && re.test(v));
  },
  containing(part: string): Matcher {
    return matcher(
      `a string containing ${JSON.stringify(part)}`,
      (v) => typeof v === 'string' && v.includes(part),
    );
  },
  arrayOf(item: unknown, opts: { length?: number } = {}): Matcher {
    const len = opts.length === undefined ? '' : ` of length ${opts.length}`;
    return matcher(
      `an array${len} of ${describeExpected(item)}`,
      (v) =>
        Array.isArray(v) &&
        (opts.length === undefined || v.length === opts.length) &&
        v.every((x) => diff(x, item).length === 0),
    );
  },
  /** An object with exactly these keys (each matched like any expected value). */
  exactly(shape: Record<string, unknown>): Matcher {
    const keys = Object.keys(shape).sort();
    return matcher(
      `exactly ${describeExpected(shape)}`,
      (v) => {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
        const got = Object.keys(v).sort();
        return JSON.stringify(got) === JSON.stringify(keys) && diff(v, shape).length === 0;
      },
      (v) => explainKeys(v, shape),
    );
  },
  between(min: number, max: number): Matcher {
    return matcher(
      `a number between ${min} and ${max}`,
      (v) => typeof v === 'number' && v >= min && v <= max,
    );
  },
  satisfying(describe: string, test: (value: unknown) => boolean): Matcher {
    return matcher(describe, test);
  },
};

/** For `is.exactly`: the keys missing, the keys extra, and the keys whose values differ. */
function explainKeys(actual: unknown, shape: Record<string, unknown>): string {
  if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) return show(actual);
  const record = actual as Record<string, unknown>;
  const names = (list: string[]): string => list.map((k) => JSON.stringify(k)).join(', ');
  const missing = Object.keys(shape).filter((k) => !(k in record));
  const extra = Object.keys(record).filter((k) => !(k in shape));
  const different = Object.keys(shape)
    .filter((k) => k in record)
    .flatMap((k) => diff(record[k], shape[k], k))
    .map((d) => `${d.path}: expected ${d.expected}, got ${d.actual}`);
  const parts = [
    ...(extra.length ? [`extra key${extra.length > 1 ? 's' : ''} ${names(extra)}`] : []),
    ...(missing.length ? [`missing key${missing.length > 1 ? 's' : ''} ${names(missing)}`] : []),
    ...different,
  ];
  return parts.length ? `${parts.join('; ')} (in ${show(actual, 120)})` : show(actual);
}

/* ---------------------------------------------------------- subset matching */

/** One place where the actual value differs from the expected one. */
export interface Difference {
  path: string;
  expected: string;
  actual: string;
}

function describeExpected(expected: unknown): string {
  if (isMatcher(expected)) return expected.describe;
  if (Array.isArray(expected)) return `[${expected.map(describeExpected).join(', ')}]`;
  if (typeof expected === 'object' && expected !== null) {
    const parts = Object.entries(expected).map(
      ([k, v]) => `${JSON.stringify(k)}: ${describeExpected(v)}`,
    );
    return `{${parts.join(', ')}}`;
  }
  return show(expected);
}

/**
 * Subset comparison: objects may have more keys than expected; arrays must have the same
 * length, item by item; matchers decide for themselves. Returns every differing path.
 */
export function diff(actual: unknown, expected: unknown, path = '$'): Difference[] {
  if (isMatcher(expected)) {
    return expected.test(actual)
      ? []
      : [{ path, expected: expected.describe, actual: expected.explain?.(actual) ?? show(actual) }];
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual))
      return [{ path, expected: `an array of ${expected.length}`, actual: show(actual) }];
    if (actual.length !== expected.length) {
      return [
        {
          path,
          expected: `an array of ${expected.length}`,
          actual: `an array of ${actual.length}: ${show(actual)}`,
        },
      ];
    }
    return expected.flatMap((item, i) => diff(actual[i], item, `${path}[${i}]`));
  }
  if (typeof expected === 'object' && expected !== null) {
    if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) {
      return [{ path, expected: 'an object', actual: show(actual) }];
    }
    const record = actual as Record<string, unknown>;
    return Object.entries(expected).flatMap(([key, value]) =>
      diff(record[key], value, `${path}.${key}`),
    );
  }
  return Object.is(actual, expected)
    ? []
    : [{ path, expected: show(expected), actual: show(actual) }];
}

/** Short, single-line JSON-ish rendering for messages. */
export function show(value: unknown, max = 200): string {
  let text: string;
  if (value === undefined) text = 'undefined (missing)';
  else if (typeof value === 'string') text = JSON.stringify(value);
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > max ? `${text.slice(0, max)}...(${text.length} chars)` : text;
}

function listDifferences(diffs: Difference[]): string {
  return diffs.map((d) => `${d.path}: expected ${d.expected}, got ${d.actual}`).join('\n');
}

/* ---------------------------------------------------------------- exchanges */

/** "POST /auth/login" */
export function label(ex: Exchange): string {
  return `${ex.request.method} ${pathOf(ex.request.url)}`;
}

function pathOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.pathname}${u.search}`;
  } catch {
    return url;
  }
}

/** The status is `expected` (or one of them). */
export function expectStatus(ex: Exchange, expected: number | readonly number[]): void {
  const allowed = typeof expected === 'number' ? [expected] : expected;
  if (allowed.includes(ex.response.status)) return;
  const want = allowed.join(' or ');
  const errorCode = errorCodeOf(ex);
  fail(
    `${label(ex)} answered ${ex.response.status}${errorCode ? ` ${errorCode}` : ''}, expected ${want}`,
    {
      exchange: ex,
      expected: `status ${want}`,
      observed: `status ${ex.response.status}`,
    },
  );
}

function errorCodeOf(ex: Exchange): string | undefined {
  const body = ex.response.json as { error?: { code?: unknown } } | undefined;
  const code = body?.error?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The body is JSON and contains `expected` (subset match; matchers allowed). */
export function expectJsonBody(ex: Exchange, expected: unknown): void {
  if (ex.response.json === undefined) {
    const type = ex.response.headers['content-type'] ?? 'no Content-Type';
    fail(`${label(ex)} did not answer JSON (${type})`, {
      exchange: ex,
      expected: `a JSON body like ${describeExpected(expected)}`,
      observed: `body ${show(ex.response.text)}`,
    });
  }
  const diffs = diff(ex.response.json, expected);
  if (diffs.length === 0) return;
  const first = diffs[0] as Difference;
  fail(
    `${label(ex)} body differs at ${first.path}: expected ${first.expected}, got ${first.actual}`,
    {
      exchange: ex,
      expected: describeExpected(expected),
      observed: listDifferences(diffs),
    },
  );
}

/** Status + `{"error":{"code": code, "message": string}}`. */
export function expectErrorBody(ex: Exchange, status: number, code: string): void {
  const got = errorCodeOf(ex);
  if (ex.response.status !== status || got !== code) {
    fail(
      `${label(ex)} answered ${ex.response.status} ${got ?? show(ex.response.text, 80)}, expected ${status} ${code}`,
      {
        exchange: ex,
        expected: `status ${status} with {"error":{"code":"${code}","message":"..."}}`,
        observed: `status ${ex.response.status}, body ${show(ex.response.text)}`,
      },
    );
  }
  expectJsonBody(ex, { error: { code, message: is.string } });
}

/**
 * 400 VALIDATION_FAILED whose `details` name exactly `fields` (each once or more, in any order):
 * the contract's one detail per bad field of the body or query.
 */
export function expectValidationFailed(ex: Exchange, fields: readonly string[]): void {
  expectErrorBody(ex, 400, 'VALIDATION_FAILED');
  const details = (ex.response.json as { error: { details?: unknown } }).error.details;
  const want = [...new Set(fields)].sort();
  const named = Array.isArray(details)
    ? [...new Set(details.map((d) => (d as { field?: unknown } | null)?.field))].sort()
    : undefined;
  if (named && JSON.stringify(named) === JSON.stringify(want)) return;
  fail(
    `${label(ex)} answered 400 VALIDATION_FAILED with ${named ? `details naming ${named.map((f) => show(f)).join(', ') || 'no field'}` : `details ${show(details)}`}, expected details naming ${want.map((f) => show(f)).join(' and ')}`,
    {
      exchange: ex,
      expected: `"details": [{"field","message"}], one per bad field: ${want.map((f) => show(f)).join(', ')} (the field's own name, as sent)`,
      observed: `details: ${show(details, 400)}`,
    },
  );
}

/** The header is present and, when given, equals / matches / satisfies `expected`. */
export function expectHeader(
  ex: Exchange,
  name: string,
  expected?: string | RegExp | Matcher,
): string {
  const key = name.toLowerCase();
  const value = ex.response.headers[key];
  const want =
    expected === undefined
      ? 'present'
      : typeof expected === 'string'
        ? show(expected)
        : expected instanceof RegExp
          ? `matching ${expected}`
          : expected.describe;
  const ok =
    value !== undefined &&
    (expected === undefined ||
      (typeof expected === 'string'
        ? value === expected
        : expected instanceof RegExp
          ? expected.test(value)
          : expected.test(value)));
  if (ok) return value;
  fail(
    `${label(ex)}: header ${name} is ${value === undefined ? 'missing' : show(value)}, expected ${want}`,
    {
      exchange: ex,
      expected: `${name}: ${want}`,
      observed: value === undefined ? `no ${name} header` : `${name}: ${value}`,
    },
  );
}

/** The header is absent. */
export function expectNoHeader(ex: Exchange, name: string): void {
  const value = ex.response.headers[name.toLowerCase()];
  if (value === undefined) return;
  fail(`${label(ex)}: header ${name} should not be sent, got ${show(value)}`, {
    exchange: ex,
    expected: `no ${name} header`,
    observed: `${name}: ${value}`,
  });
}

/** The body is empty (e.g. 204). */
export function expectEmptyBody(ex: Exchange): void {
  if (ex.response.text.length === 0) return;
  fail(`${label(ex)} answered a body, expected none`, {
    exchange: ex,
    expected: 'an empty body',
    observed: show(ex.response.text),
  });
}

/** Neither the body nor any header contains `secret` (e.g. a password or its hash). */
export function expectNotLeaked(ex: Exchange, secret: string, what: string): void {
  const headers = Object.entries(ex.response.headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
  const where = ex.response.text.includes(secret)
    ? 'body'
    : headers.includes(secret)
      ? 'headers'
      : undefined;
  if (!where) return;
  fail(`${label(ex)} leaks the ${what} in its ${where}`, {
    exchange: ex,
    expected: `no response ever contains the ${what}`,
    observed: `found ${show(secret, 80)} in the response ${where}`,
  });
}

/** The exchange took at most `maxMs`. */
export function expectWithin(ex: Exchange, maxMs: number): void {
  if (ex.durationMs <= maxMs) return;
  fail(`${label(ex)} took ${Math.round(ex.durationMs)} ms, expected at most ${maxMs} ms`, {
    exchange: ex,
    expected: `an answer within ${maxMs} ms`,
    observed: `${Math.round(ex.durationMs)} ms`,
  });
}

/* ------------------------------------------------------------- plain values */

/** `value` matches `expected` (subset + matchers); `what` names it in the message, e.g. "users row". */
export function expectShape(
  value: unknown,
  expected: unknown,
  what: string,
  details: FailureDetails = {},
): void {
  const diffs = diff(value, expected);
  if (diffs.length === 0) return;
  const first = diffs[0] as Difference;
  fail(`${what}: at ${first.path} expected ${first.expected}, got ${first.actual}`, {
    expected: describeExpected(expected),
    observed: `${listDifferences(diffs)}\n${what}: ${show(value, 1000)}`,
    ...details,
  });
}

/** Two exchanges answered the same status and body (e.g. unknown email vs wrong password). */
export function expectSameAnswer(a: Exchange, b: Exchange, why: string): void {
  if (a.response.status === b.response.status && a.response.text === b.response.text) return;
  fail(`${label(a)} answers differently ${why}`, {
    exchange: b,
    expected: `the same answer: ${a.response.status} ${show(a.response.text)}`,
    observed: `${b.response.status} ${show(b.response.text)}`,
  });
}

/* -------------------------------------------------------------------- time */

/**
 * Retries `fn` until it stops throwing, for up to `timeoutMs`. A CheckFailure that still
 * holds at the end is rethrown with how long it was waited for; other errors propagate at once.
 */
export async function eventually<T>(
  fn: () => Promise<T> | T,
  timeoutMs = 3000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (!isCheckFailure(e)) throw e;
      if (Date.now() >= deadline) {
        throw new CheckFailure(`${e.summary} (still so after ${timeoutMs} ms)`, e.details);
      }
    }
    await sleep(intervalMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Awaits `promise`, failing with `summary` if it takes longer than `ms`. */
export async function within<T>(
  promise: Promise<T>,
  ms: number,
  summary: string,
  details: FailureDetails = {},
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckFailure(summary, details)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs one case of a table-driven check; a failure's summary is prefixed with the case name. */
export async function inCase<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (!isCheckFailure(e)) throw e;
    throw new CheckFailure(`${name}: ${e.summary}`, e.details);
  }
}

/* ------------------------------------------------------------------- races */

/**
 * Concurrent requests for one resource: `winners` of them (exactly, or at most with
 * `atMost`) answered `win`, every other one answered `lose` with error `code`. A 500, a
 * second winner or any other answer fails, showing every status that came back.
 */
export function expectRace(
  exchanges: readonly Exchange[],
  expected: { win: number; lose: number; code: string; winners?: number; atMost?: boolean },
): void {
  const winners = expected.winners ?? 1;
  const statuses = exchanges.map(
    (ex) => `${ex.response.status}${errorCodeOf(ex) ? ` ${errorCodeOf(ex)}` : ''}`,
  );
  const observed = `${exchanges.length} concurrent ${exchanges[0] ? label(exchanges[0]) : 'requests'} answered: ${statuses.join(', ')}`;
  const want = `${expected.atMost ? 'at most ' : ''}${winners} × ${expected.win}, every other one ${expected.lose} ${expected.code}`;
  const odd = exchanges.find(
    (ex) =>
      ex.response.status !== expected.win &&
      (ex.response.status !== expected.lose || errorCodeOf(ex) !== expected.code),
  );
  if (odd)
    fail(
      `${label(odd)} answered ${statuses[exchanges.indexOf(odd)]} while racing ${exchanges.length - 1} identical requests`,
      {
        exchange: odd,
        expected: want,
        observed,
      },
    );
  const won = exchanges.filter((ex) => ex.response.status === expected.win).length;
  if (won > winners || (!expected.atMost && won < winners))
    fail(
      `${won} of ${exchanges.length} concurrent requests won (${expected.win}), expected ${expected.atMost ? 'at most ' : ''}${winners}`,
      {
        expected: want,
        observed,
      },
    );
}
