import type { Knex } from 'knex';
import * as users from './20250101000001_users';
import * as notes from './20250101000002_notes';
import * as emailVerificationTokens from './20250107000001_email_verification_tokens';
import * as refreshTokens from './20250109000001_refresh_tokens';
import * as revokedAccessTokens from './20250109000002_revoked_access_tokens';

/**
 * Every migration, in order. Listed explicitly (no directory scan) so the same code runs
 * from src with tsx or jest and from the compiled dist. A new migration = a new file + one line here.
 */
const migrations: ReadonlyArray<readonly [string, Knex.Migration]> = [
  ['20250101000001_users', users],
  ['20250101000002_notes', notes],
  ['20250107000001_email_verification_tokens', emailVerificationTokens],
  ['20250109000001_refresh_tokens', refreshTokens],
  ['20250109000002_revoked_access_tokens', revokedAccessTokens],
];

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: () => Promise.resolve(migrations.map(([name]) => name)),
  getMigrationName: (name) => name,
  getMigration: (name) => {
    const found = migrations.find(([candidate]) => candidate === name);
    if (!found) return Promise.reject(new Error(`Unknown migration ${name}`));
    return Promise.resolve(found[1]);
  },
};
