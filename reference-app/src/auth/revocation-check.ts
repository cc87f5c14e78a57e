import type { RequestHandler } from 'express';
import { unauthorized } from '../lib/errors';
import type { AccessTokenRevocations } from './access-token-revocations';

/** Wraps the bearer-token check: a token revoked by logout is refused like an invalid one. */
export function refuseRevoked(
  requireAuth: RequestHandler,
  revocations: AccessTokenRevocations,
): RequestHandler {
  return (req, res, next) => {
    requireAuth(req, res, (err?: unknown) => {
      if (err !== undefined) return next(err);
      const jti = req.user?.tokenId;
      if (jti === undefined) return next(unauthorized());
      revocations
        .isRevoked(jti)
        .then((revoked) => next(revoked ? unauthorized() : undefined), next);
    });
  };
}
