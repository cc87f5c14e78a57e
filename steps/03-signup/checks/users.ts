import { randomInt } from 'node:crypto';
import {
  expectStatus,
  is,
  randomText,
  sandbox,
  type AppInstance,
  type Exchange,
} from '@sandbox/harness';

/** Helpers later steps reuse: a fresh, random learner account. */
export interface Credentials {
  email: string;
  password: string;
}

export interface SignedUp extends Credentials {
  id: string;
  signup: Exchange;
}

export const userShape = {
  id: is.uuid,
  email: is.string,
  emailVerified: is.boolean,
  createdAt: is.isoDate,
};

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
/** Reserved for testing and documentation (RFC 2606): no mail can leave for a real domain. */
const TLDS = ['test', 'example'] as const;

/**
 * A fresh address and password, drawn per call: a random domain under a reserved top-level
 * domain and a password of 12 to 24 random letters and digits, so no app can recognise the
 * checker's users. The mailbox keeps `prefix`, which says in a failure which check made the user.
 */
export function newCredentials(prefix = 'user'): Credentials {
  const domain = `${randomText(randomInt(5, 11), LOWER)}.${TLDS[randomInt(TLDS.length)]}`;
  return {
    email: `${sandbox().unique(prefix)}@${domain}`.toLowerCase(),
    password: randomText(randomInt(12, 25)),
  };
}

/** Signs a new user up (through `app`, the primary by default) and insists on 201. */
export async function signUp(
  creds: Credentials = newCredentials(),
  app: AppInstance = sandbox().app,
  opts: { timeoutMs?: number } = {},
): Promise<SignedUp> {
  const ex = await app.http.post('/auth/signup', { json: creds, ...opts });
  expectStatus(ex, 201);
  const body = ex.response.json as { user?: { id?: unknown } } | undefined;
  return { ...creds, id: String(body?.user?.id), signup: ex };
}
