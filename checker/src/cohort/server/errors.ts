import type { ErrorRequestHandler, RequestHandler } from 'express';

/** The service's one error type: the client sees exactly `{"error":{"code","message"}}` with this status. */
export class CohortError extends Error {
  override readonly name = 'CohortError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const notFound = (what: string): CohortError => new CohortError(404, 'NOT_FOUND', what);
export const badRequest = (code: string, message: string): CohortError =>
  new CohortError(400, code, message);
export const unauthorized = (
  message = 'a valid token is required (Authorization: Bearer ...)',
): CohortError => new CohortError(401, 'UNAUTHORIZED', message);

const DATABASE_DOWN_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up)
  '08000',
  '08003',
  '08006',
]);

/** Postgres unreachable, restarting, or the pool could not get a connection in time. */
export function isDatabaseDown(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; name?: unknown; message?: unknown; syscall?: unknown };
  if (typeof e.code === 'string' && DATABASE_DOWN_CODES.has(e.code)) return true;
  // A server on a unix socket (the embedded Postgres) that stopped: its socket file is gone.
  if (e.syscall === 'connect' && e.code === 'ENOENT') return true;
  if (e.name === 'KnexTimeoutError') return true;
  return (
    typeof e.message === 'string' &&
    /Connection terminated|terminating connection|the database system is (starting up|shutting down)/i.test(
      e.message,
    )
  );
}

interface HttpLikeError {
  status?: unknown;
  type?: unknown;
  expose?: unknown;
}

function toCohortError(err: unknown): CohortError | undefined {
  if (err instanceof CohortError) return err;
  if (isDatabaseDown(err))
    return new CohortError(
      503,
      'DATABASE_UNAVAILABLE',
      'the cohort database is not reachable right now; try again in a few seconds',
    );
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as HttpLikeError;
  if (e.type === 'entity.parse.failed')
    return badRequest('BAD_JSON', 'the request body is not valid JSON');
  if (e.type === 'entity.too.large')
    return new CohortError(
      413,
      'PAYLOAD_TOO_LARGE',
      'the request body is larger than the service accepts',
    );
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500 && e.expose === true)
    return new CohortError(e.status, 'BAD_REQUEST', 'the request could not be processed');
  return undefined;
}

export const notFoundHandler: RequestHandler = (_req, _res, next) =>
  next(notFound('no such route'));

/** The last middleware: known errors as they are, the rest as 500 without internals (logged to stderr). */
export function errorHandler(log: (message: string) => void): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const known = toCohortError(err);
    if (!known)
      log(
        `${req.method} ${req.originalUrl}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
    const { status, code, message } =
      known ?? new CohortError(500, 'INTERNAL', 'something went wrong on our side');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (status === 503) res.setHeader('Retry-After', '2');
    res.status(status).json({ error: { code, message } });
  };
}
