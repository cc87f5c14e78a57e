import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { AppError, unauthorized } from '../lib/errors';
import { validate } from '../lib/validate';
import type { AccessTokens } from './access-tokens';
import type { AccessTokenRevocations } from './access-token-revocations';
import type { RefreshTokensService } from './refresh-tokens.service';
import { issueSession } from './sessions';

const refreshSchema = z.object({
  refreshToken: z
    .string({ error: 'refreshToken is required' })
    .min(1, 'refreshToken is required')
    .max(512),
});

const invalidRefreshToken = (): AppError =>
  new AppError(401, 'INVALID_REFRESH_TOKEN', 'This refresh token is unknown, expired or revoked');

/** POST /auth/refresh (rotation, reuse revokes the family) and POST /auth/logout. */
export function sessionRoutes(deps: {
  accessTokens: AccessTokens;
  refreshTokens: RefreshTokensService;
  revocations: AccessTokenRevocations;
  requireAuth: RequestHandler;
}): Router {
  const router = Router();
  router.post('/auth/refresh', async (req, res) => {
    const { refreshToken } = validate(refreshSchema, req.body);
    const rotated = await deps.refreshTokens.rotate(refreshToken);
    if (!rotated.ok) throw invalidRefreshToken();
    res.json(await issueSession(deps, rotated.userId, rotated.familyId));
  });
  router.post('/auth/logout', deps.requireAuth, async (req, res) => {
    const { tokenId, tokenExpiresAt } = req.user ?? {};
    if (tokenId === undefined || tokenExpiresAt === undefined) throw unauthorized();
    await deps.revocations.revoke(tokenId, new Date(tokenExpiresAt * 1000));
    await deps.refreshTokens.revokeForAccessToken(tokenId);
    res.status(204).end();
  });
  return router;
}
