import jwt from 'jsonwebtoken';
import type { AccessTokens, IssuedAccessToken } from './access-tokens';
import type { RefreshTokensService } from './refresh-tokens.service';

export interface IssuedSession extends IssuedAccessToken {
  refreshToken: string;
}

/** An access token plus a refresh token bound to it; a new family unless one is given (rotation). */
export async function issueSession(
  deps: { accessTokens: AccessTokens; refreshTokens: RefreshTokensService },
  userId: string,
  familyId?: string,
): Promise<IssuedSession> {
  const access = deps.accessTokens.issue(userId);
  const claims = jwt.decode(access.accessToken, { json: true });
  if (typeof claims?.jti !== 'string') throw new Error('access token without jti');
  const refreshToken = await deps.refreshTokens.issue({ userId, accessJti: claims.jti, familyId });
  return { ...access, refreshToken };
}
