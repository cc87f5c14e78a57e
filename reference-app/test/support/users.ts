import { randomUUID } from 'node:crypto';
import { client } from './http';

export interface PublicUserBody {
  id: string;
  email: string;
  emailVerified: boolean;
  createdAt: string;
}

export const uniqueEmail = (label = 'user'): string => `${label}-${randomUUID()}@example.test`;

export const PASSWORD = 'correct horse battery';

export async function signUp(baseUrl: string, email = uniqueEmail()): Promise<PublicUserBody> {
  const res = await client(baseUrl).post<{ user: PublicUserBody }>('/auth/signup', {
    body: { email, password: PASSWORD },
  });
  if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${res.text}`);
  return res.body.user;
}

export async function logIn(baseUrl: string, email: string, password = PASSWORD): Promise<string> {
  const res = await client(baseUrl).post<{ accessToken: string }>('/auth/login', {
    body: { email, password },
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`);
  return res.body.accessToken;
}

/** A new user and an access token for them. */
export async function newUser(baseUrl: string): Promise<{ user: PublicUserBody; token: string }> {
  const user = await signUp(baseUrl);
  return { user, token: await logIn(baseUrl, user.email) };
}

/** Signs up and logs in: the access and refresh tokens (the refresh token arrives at step 9). */
export async function signUpAndLogIn(baseUrl: string, email = uniqueEmail()) {
  await signUp(baseUrl, email);
  const res = await client(baseUrl).post<{ accessToken: string; refreshToken: string }>(
    '/auth/login',
    { body: { email, password: PASSWORD } },
  );
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`);
  return { email, password: PASSWORD, ...res.body };
}
