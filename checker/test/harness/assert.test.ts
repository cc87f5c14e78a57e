import type { Exchange } from '../../src/harness/api';
import {
  diff,
  eventually,
  expectErrorBody,
  expectHeader,
  expectJsonBody,
  expectStatus,
  expectValidationFailed,
  expectWithin,
  is,
  median,
} from '../../src/harness/assert';
import { CheckFailure, isCheckFailure } from '../../src/harness/failure';

function exchange(status: number, body: unknown, headers: Record<string, string> = {}): Exchange {
  const text = body === undefined ? '' : JSON.stringify(body);
  return {
    request: {
      method: 'POST',
      url: 'http://127.0.0.1:3000/auth/login?x=1',
      headers: {},
      body: '{}',
    },
    response: { status, headers, text, json: body },
    durationMs: 12,
  };
}

function failureOf(fn: () => void): CheckFailure {
  try {
    fn();
  } catch (e) {
    if (isCheckFailure(e)) return e;
    throw e;
  }
  throw new Error('expected a CheckFailure');
}

describe('assert', () => {
  it('expectStatus names the route, the status, the error code and what was expected', () => {
    const f = failureOf(() => expectStatus(exchange(500, { error: { code: 'INTERNAL' } }), 200));
    expect(f.summary).toBe('POST /auth/login?x=1 answered 500 INTERNAL, expected 200');
    expect(f.details.exchange?.response.status).toBe(500);
    expect(() => expectStatus(exchange(201, {}), [200, 201])).not.toThrow();
  });

  it('expectJsonBody matches a subset and lists every differing path', () => {
    const ex = exchange(200, { user: { id: 'nope', email: 'a@b.c', extra: 1 }, list: [1, 2] });
    expect(() => expectJsonBody(ex, { user: { email: 'a@b.c' } })).not.toThrow();
    const f = failureOf(() =>
      expectJsonBody(ex, { user: { id: is.uuid, email: 'x@y.z' }, list: [1] }),
    );
    expect(f.summary).toBe(
      'POST /auth/login?x=1 body differs at $.user.id: expected a UUID, got "nope"',
    );
    expect(f.details.observed).toContain('$.user.email: expected "x@y.z", got "a@b.c"');
    expect(f.details.observed).toContain('$.list: expected an array of 1');
  });

  it('expectErrorBody checks status and code together', () => {
    expect(() =>
      expectErrorBody(
        exchange(401, { error: { code: 'UNAUTHORIZED', message: 'no' } }),
        401,
        'UNAUTHORIZED',
      ),
    ).not.toThrow();
    const f = failureOf(() =>
      expectErrorBody(
        exchange(404, { error: { code: 'NOT_FOUND', message: 'x' } }),
        401,
        'UNAUTHORIZED',
      ),
    );
    expect(f.summary).toBe(
      'POST /auth/login?x=1 answered 404 NOT_FOUND, expected 401 UNAUTHORIZED',
    );
  });

  it('expectValidationFailed wants one detail per bad field, named as the contract names it', () => {
    const invalid = (details: unknown): Exchange =>
      exchange(400, { error: { code: 'VALIDATION_FAILED', message: 'bad', details } });
    const both = [
      { field: 'password', message: 'too short' },
      { field: 'email', message: 'not an address' },
      { field: 'email', message: 'too long' },
    ];
    expect(() => expectValidationFailed(invalid(both), ['email', 'password'])).not.toThrow();
    expect(
      failureOf(() =>
        expectValidationFailed(invalid([{ field: 'body.title', message: 'x' }]), ['title']),
      ).summary,
    ).toBe(
      'POST /auth/login?x=1 answered 400 VALIDATION_FAILED with details naming "body.title", expected details naming "title"',
    );
    expect(failureOf(() => expectValidationFailed(invalid(undefined), ['limit'])).summary).toBe(
      'POST /auth/login?x=1 answered 400 VALIDATION_FAILED with details undefined (missing), expected details naming "limit"',
    );
    expect(
      failureOf(() => expectValidationFailed(exchange(201, { user: {} }), ['email'])).summary,
    ).toContain('answered 201');
  });

  it('expectHeader returns the value or says it is missing', () => {
    expect(expectHeader(exchange(200, {}, { 'x-cache': 'HIT' }), 'X-Cache', 'HIT')).toBe('HIT');
    expect(failureOf(() => expectHeader(exchange(200, {}), 'X-Request-Id')).summary).toContain(
      'header X-Request-Id is missing',
    );
    expect(
      failureOf(() => expectHeader(exchange(200, {}, { 'x-cache': 'MISS' }), 'X-Cache', /HIT/))
        .summary,
    ).toContain('"MISS"');
  });

  it('expectWithin fails slow exchanges', () => {
    expect(() => expectWithin(exchange(200, {}), 100)).not.toThrow();
    expect(failureOf(() => expectWithin(exchange(200, {}), 5)).summary).toBe(
      'POST /auth/login?x=1 took 12 ms, expected at most 5 ms',
    );
  });

  it('matchers compose: nullable, arrayOf, exactly, oneOf', () => {
    expect(diff({ a: null }, { a: is.nullable(is.string) })).toEqual([]);
    expect(diff([{ id: 1 }], is.arrayOf({ id: is.number }, { length: 1 }))).toEqual([]);
    expect(diff({ a: 1, b: 2 }, is.exactly({ a: 1 }))).toHaveLength(1);
    expect(diff('x', is.oneOf('y', 'z'))).toHaveLength(1);
    expect(diff('2024-01-02T03:04:05.678Z', is.isoDate)).toEqual([]);
  });

  it('exactly names the extra, missing and different keys instead of a cut-off body', () => {
    const user = { id: 'u1', email: 'a@b.c', passwordHash: '$2b$10$x', createdAt: 'yesterday' };
    const [d] = diff(
      { user },
      {
        user: is.exactly({
          id: is.string,
          email: 'a@b.c',
          emailVerified: false,
          createdAt: is.isoDate,
        }),
      },
    );
    expect(d?.path).toBe('$.user');
    expect(d?.actual).toMatch(
      /^extra key "passwordHash"; missing key "emailVerified"; createdAt: expected an ISO 8601 date-time, got "yesterday" \(in \{/,
    );
  });

  it('eventually retries until the check holds, then gives up with the last failure', async () => {
    let n = 0;
    await expect(
      eventually(
        () => {
          n += 1;
          if (n < 3) throw new CheckFailure('not yet');
          return n;
        },
        1000,
        1,
      ),
    ).resolves.toBe(3);
    await expect(
      eventually(
        () => {
          throw new CheckFailure('never');
        },
        30,
        5,
      ),
    ).rejects.toThrow('never (still so after 30 ms)');
  });

  it('median of odd and even lists', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });
});
