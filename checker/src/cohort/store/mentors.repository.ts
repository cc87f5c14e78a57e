import bcrypt from 'bcrypt';
import type { Db } from './db';
import { hashToken, newToken } from './tokens';

export interface Mentor {
  id: string;
  email: string;
  name: string;
  createdAt: string;
}

interface MentorRow {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  created_at: Date;
}

export const BCRYPT_COST = 12;
/** A mentor API token lasts this long; signing in again gives a new one. */
export const MENTOR_TOKEN_TTL_MS = 30 * 24 * 3600 * 1000;

const toMentor = (r: MentorRow): Mentor => ({
  id: r.id,
  email: r.email,
  name: r.name,
  createdAt: r.created_at.toISOString(),
});

export async function countMentors(db: Db): Promise<number> {
  const row = await db('mentors').count<{ n: string }[]>({ n: '*' }).first();
  return Number(row?.n ?? 0);
}

export async function createMentor(
  db: Db,
  input: { email: string; name: string; password: string },
): Promise<Mentor> {
  const passwordHash = await bcrypt.hash(input.password, BCRYPT_COST);
  const [row] = await db('mentors')
    .insert({ email: input.email.trim(), name: input.name.trim(), password_hash: passwordHash })
    .returning<MentorRow[]>('*');
  if (!row) throw new Error('the mentor was not stored');
  return toMentor(row);
}

export async function findMentorByEmail(db: Db, email: string): Promise<Mentor | undefined> {
  const row = await db<MentorRow>('mentors')
    .whereRaw('lower(email) = lower(?)', [email.trim()])
    .first();
  return row ? toMentor(row) : undefined;
}

/** The mentor when email and password match; bcrypt runs even for an unknown email (same timing). */
export async function verifyMentorPassword(
  db: Db,
  email: string,
  password: string,
): Promise<Mentor | undefined> {
  const row = await db<MentorRow>('mentors')
    .whereRaw('lower(email) = lower(?)', [email.trim()])
    .first();
  const ok = await bcrypt.compare(password, row?.password_hash ?? DUMMY_HASH);
  return row && ok ? toMentor(row) : undefined;
}

const DUMMY_HASH = '$2b$12$52VpvwQMSHT7j1ZpJIERrustOYl6yZ0P6FM0i8U0X.psrxZNWeb4.';

/** Issues a mentor API token (returned once; its hash is stored). */
export async function issueMentorToken(db: Db, mentorId: string): Promise<string> {
  const token = newToken('mentor');
  await db('mentor_tokens').insert({
    mentor_id: mentorId,
    token_hash: hashToken(token),
    expires_at: new Date(Date.now() + MENTOR_TOKEN_TTL_MS),
  });
  return token;
}

export async function mentorByToken(db: Db, token: string): Promise<Mentor | undefined> {
  const row = await db('mentor_tokens as t')
    .join('mentors as m', 'm.id', 't.mentor_id')
    .where('t.token_hash', hashToken(token))
    .andWhere('t.expires_at', '>', db.fn.now())
    .first<MentorRow | undefined>('m.*');
  return row ? toMentor(row) : undefined;
}

export async function revokeMentorToken(db: Db, token: string): Promise<void> {
  await db('mentor_tokens').where('token_hash', hashToken(token)).delete();
}
