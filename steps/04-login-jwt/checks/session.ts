import { expectStatus, sandbox, type Exchange } from '@sandbox/harness';
import { signUp, type Credentials, type SignedUp } from '../../03-signup/checks/users';

export interface LoggedIn extends SignedUp {
  token: string;
  login: Exchange;
}

/** Logs in and insists on 200 with an access token. */
export async function logIn(creds: Credentials): Promise<{ token: string; login: Exchange }> {
  const login = await sandbox().app.http.post('/auth/login', {
    json: { email: creds.email, password: creds.password },
  });
  expectStatus(login, 200);
  const token = (login.response.json as { accessToken?: unknown } | undefined)?.accessToken;
  return { token: String(token), login };
}

/** A fresh user, signed up and logged in. */
export async function newUser(): Promise<LoggedIn> {
  const user = await signUp();
  return { ...user, ...(await logIn(user)) };
}
