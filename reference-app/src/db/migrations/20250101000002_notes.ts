import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('notes', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.text('title').notNullable();
    t.text('body').notNullable().defaultTo('');
    // Millisecond precision: the keyset cursor round-trips through a JS Date without losing digits.
    t.timestamp('created_at', { useTz: true, precision: 3 }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true, precision: 3 }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(
    'create index notes_user_newest_first on notes (user_id, created_at desc, id desc)',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('notes');
}
