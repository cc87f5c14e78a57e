import { Router } from 'express';
import { AppError, unauthorized } from '../lib/errors';
import { validate } from '../lib/validate';
import type { UsersRepository } from '../users/users.repository';
import { toPublicUser } from '../users/users.types';
import type { AccessTokens } from './access-tokens';
import type { AuthMiddleware } from './auth.passport';
import { loginSchema, signupSchema } from './auth.schemas';
import type { AuthService } from './auth.service';
import type { RefreshTokensService } from './refresh-tokens.service';
import { issueSession } from './sessions';

interface AuthRoutesDeps {
  authService: AuthService;
  accessTokens: AccessTokens;
  auth: AuthMiddleware;
  users: UsersRepository;
  refreshTokens: RefreshTokensService;
}

export function authRoutes({
  authService,
  accessTokens,
  auth,
  users,
  refreshTokens,
}: AuthRoutesDeps): Router {
  const router = Router();

  router.post('/auth/signup', async (req, res) => {
    const { email, password } = validate(signupSchema, req.body ?? {});
    const user = await authService.signup(email, password);
    res.status(201).json({ user: toPublicUser(user) });
  });

  router.post('/auth/login', async (req, res) => {
    validate(loginSchema, req.body ?? {});
    const user = await auth.authenticateCredentials(req, res);
    if (!user) throw new AppError(401, 'INVALID_CREDENTIALS', 'Email or password is wrong');
    res.json(await issueSession({ accessTokens, refreshTokens }, user.id));
  });

  router.get('/auth/me', auth.requireAuth, async (req, res) => {
    const user = req.user && (await users.findById(req.user.id));
    // A valid token for a user that no longer exists is no longer a valid token.
    if (!user) throw unauthorized();
    res.json({ user: toPublicUser(user) });
  });

  return router;
}
