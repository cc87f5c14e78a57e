import type { Db } from '../lib/db';
import type { User, UserWithHash } from './users.types';

interface UserRow {
  id: string;
  email: string;
  email_verified: boolean;
  created_at: Date;
}

interface UserRowWithHash extends UserRow {
  password_hash: string;
}

const PUBLIC_COLUMNS = ['id', 'email', 'email_verified', 'created_at'];

const toUser = (row: UserRow): User => ({
  id: row.id,
  email: row.email,
  emailVerified: row.email_verified,
  createdAt: row.created_at,
});

export class EmailTakenError extends Error {
  override readonly name = 'EmailTakenError';
}

const isUniqueViolation = (err: unknown): boolean =>
  typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';

export class UsersRepository {
  constructor(private readonly db: Db) {}

  /** Inserts a user; the unique index on lower(email) settles races between two signups. */
  async create(email: string, passwordHash: string): Promise<User> {
    try {
      const [row] = await this.db('users')
        .insert({ email, password_hash: passwordHash })
        .returning<UserRow[]>(PUBLIC_COLUMNS);
      if (!row) throw new Error('insert returned no row');
      return toUser(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw new EmailTakenError(email);
      throw err;
    }
  }

  async findById(id: string): Promise<User | undefined> {
    const row = await this.db('users').first<UserRow | undefined>(PUBLIC_COLUMNS).where({ id });
    return row && toUser(row);
  }

  async findByEmailWithHash(email: string): Promise<UserWithHash | undefined> {
    const row = await this.db('users')
      .first<UserRowWithHash | undefined>([...PUBLIC_COLUMNS, 'password_hash'])
      .whereRaw('lower(email) = lower(?)', [email]);
    return row && { ...toUser(row), passwordHash: row.password_hash };
  }
}
