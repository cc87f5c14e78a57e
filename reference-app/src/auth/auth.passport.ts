import type { RequestHandler, Request, Response } from 'express';
import passport from 'passport';
import { ExtractJwt, Strategy as JwtStrategy } from 'passport-jwt';
import { Strategy as LocalStrategy } from 'passport-local';
import { unauthorized } from '../lib/errors';
import { ACCESS_TOKEN_ALGORITHM, type AccessTokens } from './access-tokens';
import type { AuthService } from './auth.service';
import './auth.types';

interface AccessTokenClaims {
  sub: string;
  jti: string;
  exp: number;
}

const isAccessTokenClaims = (payload: unknown): payload is AccessTokenClaims => {
  const claims = payload as Partial<AccessTokenClaims> | null;
  return (
    typeof claims?.sub === 'string' &&
    typeof claims.jti === 'string' &&
    typeof claims.exp === 'number'
  );
};

export interface AuthMiddleware {
  /** Runs passport-local; resolves the user, or undefined when the credentials do not match. */
  authenticateCredentials(req: Request, res: Response): Promise<Express.User | undefined>;
  /** Lets the request through with req.user set from a valid bearer token, or answers 401. */
  requireAuth: RequestHandler;
}

/** A passport instance of this app (no global singleton) with the local and JWT strategies. */
export function createAuthMiddleware(
  authService: AuthService,
  accessTokens: AccessTokens,
): AuthMiddleware {
  const authenticator = new passport.Passport();

  authenticator.use(
    new LocalStrategy(
      { usernameField: 'email', passwordField: 'password', session: false },
      (email, password, done) => {
        authService
          .verifyCredentials(email, password)
          .then((user) => done(null, user ?? false), done);
      },
    ),
  );

  authenticator.use(
    new JwtStrategy(
      {
        jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
        // A prepared KeyObject (jsonwebtoken accepts it; the typings only list string | Buffer).
        secretOrKey: accessTokens.key as unknown as Buffer,
        algorithms: [ACCESS_TOKEN_ALGORITHM],
      },
      (payload: unknown, done: (err: unknown, user?: Express.User | false) => void) => {
        // Tokens without exp or jti are not ours: refuse them rather than trust them forever.
        if (!isAccessTokenClaims(payload)) return done(null, false);
        done(null, { id: payload.sub, tokenId: payload.jti, tokenExpiresAt: payload.exp });
      },
    ),
  );

  const jwtMiddleware = authenticator.authenticate('jwt', {
    session: false,
    failWithError: true,
  }) as RequestHandler;

  const requireAuth: RequestHandler = (req, res, next) => {
    jwtMiddleware(req, res, (err?: unknown) => {
      if (err === undefined) return next();
      next(err instanceof Error && err.name === 'AuthenticationError' ? unauthorized() : err);
    });
  };

  const authenticateCredentials = (req: Request, res: Response) =>
    new Promise<Express.User | undefined>((resolve, reject) => {
      const handler = authenticator.authenticate(
        'local',
        { session: false },
        (err: unknown, user: Express.User | false | undefined) => {
          if (err) reject(err instanceof Error ? err : new Error(String(err)));
          else resolve(user || undefined);
        },
      ) as RequestHandler;
      handler(req, res, (err?: unknown) =>
        reject(err instanceof Error ? err : new Error('authentication failed')),
      );
    });

  return { authenticateCredentials, requireAuth };
}
