import type { Deps } from '../deps';
import { AppError } from '../lib/errors';
import { EmailTakenError, type UsersRepository } from '../users/users.repository';
import type { User } from '../users/users.types';
import { normalizeEmail } from './auth.schemas';
import type { Passwords } from './passwords';

export class AuthService {
  constructor(
    private readonly users: UsersRepository,
    private readonly passwords: Passwords,
    private readonly hooks: Pick<Deps, 'onUserCreated' | 'logger'>,
  ) {}

  async signup(email: string, password: string): Promise<User> {
    const passwordHash = await this.passwords.hash(password);
    let user: User;
    try {
      user = await this.users.create(email, passwordHash);
    } catch (err) {
      if (err instanceof EmailTakenError)
        throw new AppError(409, 'EMAIL_TAKEN', 'An account with this email exists');
      throw err;
    }
    try {
      await this.hooks.onUserCreated(user);
    } catch (err) {
      // The account exists either way; a missed verification email can be resent.
      this.hooks.logger.error({ err, userId: user.id }, 'after-signup hook failed');
    }
    return user;
  }

  /** The user when email and password match, otherwise undefined, in the same time either way. */
  async verifyCredentials(email: string, password: string): Promise<User | undefined> {
    const found = await this.users.findByEmailWithHash(normalizeEmail(email));
    const matches = await this.passwords.matches(password, found?.passwordHash);
    if (!found || !matches) return undefined;
    return {
      id: found.id,
      email: found.email,
      emailVerified: found.emailVerified,
      createdAt: found.createdAt,
    };
  }
}
