import { randomBytes } from 'node:crypto';
import type { RequestHandler } from 'express';
import session from 'express-session';
import connectPgSimple from 'connect-pg-simple';
import type { Db } from '../store/db';

/** Sessions last this long without a visit (rolling). */
export const SESSION_TTL_MS = 12 * 3600 * 1000;
export const SESSION_COOKIE = 'sandbox.sid';

/** The pg.Pool subset connect-pg-simple calls, served by knex's own pool (no second pool to size or close). */
function knexPool(db: Db): {
  query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
} {
  const client = db.client as {
    acquireConnection(): Promise<{
      query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
    }>;
    releaseConnection(connection: unknown): Promise<void>;
  };
  return {
    query: async (sql, params) => {
      const connection = await client.acquireConnection();
      try {
        return await connection.query(sql, params);
      } finally {
        await client.releaseConnection(connection);
      }
    },
  };
}

/**
 * express-session with its sessions in Postgres (table dashboard_sessions, from the cohort
 * migrations): httpOnly, SameSite=Lax cookies, Secure when the request came over https, signed
 * with the configured secret (a random one when none is given: sessions then end with the process).
 */
export function dashboardSession(db: Db, secret: string | undefined): RequestHandler {
  const PgStore = connectPgSimple(session);
  const store = new PgStore({
    pool: knexPool(db) as never,
    tableName: 'dashboard_sessions',
    pruneSessionInterval: false, // expired rows are pruned at sign-in (pruneExpiredSessions)
  });
  return session({
    name: SESSION_COOKIE,
    secret: secret ?? randomBytes(32).toString('base64url'),
    store,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    proxy: true,
    cookie: { httpOnly: true, sameSite: 'lax', secure: 'auto', maxAge: SESSION_TTL_MS, path: '/' },
  });
}

export async function pruneExpiredSessions(db: Db): Promise<void> {
  await db('dashboard_sessions').where('expire', '<', db.fn.now()).delete();
}
