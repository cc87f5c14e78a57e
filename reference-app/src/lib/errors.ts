import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from './logger';

export interface ErrorDetail {
  field: string;
  message: string;
}

/** The one error type of the app: what the client sees is exactly status, code, message and details. */
export class AppError extends Error {
  override readonly name = 'AppError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
  ) {
    super(message);
  }
}

export const notFound = (what = 'Not found'): AppError => new AppError(404, 'NOT_FOUND', what);

export const unauthorized = (): AppError =>
  new AppError(401, 'UNAUTHORIZED', 'A valid access token is required');

/** Errors thrown by body-parser and other http-errors style middleware carry these fields. */
interface HttpLikeError {
  status?: unknown;
  statusCode?: unknown;
  type?: unknown;
  expose?: unknown;
}

const CLIENT_ERROR_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

function toAppError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err;
  if (typeof err !== 'object' || err === null) return undefined;
  const httpErr = err as HttpLikeError;
  if (httpErr.type === 'entity.parse.failed') {
    return new AppError(400, 'BAD_JSON', 'The request body is not valid JSON');
  }
  if (httpErr.type === 'entity.too.large') {
    return new AppError(413, 'PAYLOAD_TOO_LARGE', 'The request body is too large');
  }
  const status = typeof httpErr.status === 'number' ? httpErr.status : httpErr.statusCode;
  // Any other client error raised by middleware (bad charset, aborted body...) stays a 4xx.
  if (typeof status === 'number' && status >= 400 && status < 500 && httpErr.expose === true) {
    return new AppError(
      status,
      CLIENT_ERROR_CODES[status] ?? 'BAD_REQUEST',
      'The request could not be processed',
    );
  }
  return undefined;
}

export const notFoundHandler: RequestHandler = (_req, _res, next) => {
  next(notFound('No such route'));
};

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const appError = toAppError(err);
    if (!appError) {
      logger.error(
        { err, requestId: res.locals.requestId, method: req.method, url: req.originalUrl },
        'unhandled error',
      );
    }
    const { status, code, message, details } =
      appError ?? new AppError(500, 'INTERNAL', 'Something went wrong on our side');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(status).json({ error: details ? { code, message, details } : { code, message } });
  };
}
