import { expectStatus, is, sandbox, type Exchange } from '@sandbox/harness';

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

/** A fresh address: random mailbox and domain, so no app can recognise the checker's users. */
export function newCredentials(prefix = 'user'): Credentials {
  return {
    email: `${sandbox().unique(prefix)}@${sandbox().unique('mail')}.test`.toLowerCase(),
    password: `Pw-${sandbox().unique('secret')}-9z`,
  };
}

/** Signs a new user up and insists on 201. */
export async function signUp(creds: Credentials = newCredentials()): Promise<SignedUp> {
  const ex = await sandbox().app.http.post('/auth/signup', { json: creds });
  expectStatus(ex, 201);
  const body = ex.response.json as { user?: { id?: unknown } } | undefined;
  return { ...creds, id: String(body?.user?.id), signup: ex };
}
