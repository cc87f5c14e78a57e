import { Router } from 'express';
import { z } from 'zod';
import { normalizeEmail } from '../auth/auth.schemas';
import { AppError } from '../lib/errors';
import { validate } from '../lib/validate';
import type { UsersRepository } from '../users/users.repository';
import { toPublicUser } from '../users/users.types';
import type { VerificationService } from './verification.service';

const resendSchema = z.object({
  email: z
    .string({ error: 'email is required' })
    .transform(normalizeEmail)
    .pipe(
      z
        .email({ error: 'must be a valid email address' })
        .max(254, 'must be at most 254 characters'),
    ),
});

const invalidToken = (): AppError =>
  new AppError(400, 'INVALID_TOKEN', 'This verification link is unknown, expired or already used');

/** GET /auth/verify?token= and POST /auth/resend-verification (202 whoever asks: no enumeration). */
export function verificationRoutes(deps: {
  verification: VerificationService;
  users: UsersRepository;
}): Router {
  const router = Router();
  router.get('/auth/verify', async (req, res) => {
    const token = typeof req.query.token === 'string' ? req.query.token : '';
    const userId = token ? await deps.verification.verify(token) : null;
    const user = userId ? await deps.users.findById(userId) : undefined;
    if (!user) throw invalidToken();
    res.json({ user: toPublicUser(user) });
  });
  router.post('/auth/resend-verification', async (req, res) => {
    const { email } = validate(resendSchema, req.body);
    await deps.verification.resend(email);
    res.status(202).json({});
  });
  return router;
}
