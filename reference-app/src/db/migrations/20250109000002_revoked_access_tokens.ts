import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('revoked_access_tokens', (t) => {
    t.uuid('jti').primary();
    // The token's own expiry: after it, the row is useless and is swept.
    t.timestamp('expires_at', { useTz: true }).notNullable().index();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('revoked_access_tokens');
}
