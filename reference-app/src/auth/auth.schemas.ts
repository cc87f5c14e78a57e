import { z } from 'zod';

export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

export const signupSchema = z.object({
  email: z
    .string({ error: 'email is required' })
    .transform(normalizeEmail)
    .pipe(
      z
        .email({ error: 'must be a valid email address' })
        .max(254, 'must be at most 254 characters'),
    ),
  password: z
    .string({ error: 'password is required' })
    .min(8, 'must be at least 8 characters')
    .max(72, 'must be at most 72 characters'),
});

export const loginSchema = z.object({
  email: z.string({ error: 'email is required' }).trim().min(1, 'email is required'),
  password: z.string({ error: 'password is required' }).min(1, 'password is required'),
});
