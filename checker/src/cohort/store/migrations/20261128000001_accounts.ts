import type { Knex } from 'knex';

/** Mentors (bcrypt passwords), their API tokens, cohorts with invite codes, who mentors which cohort, learners. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('mentors', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('email').notNullable();
    t.text('name').notNullable();
    t.text('password_hash').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('create unique index mentors_email_lower on mentors (lower(email))');

  await knex.schema.createTable('mentor_tokens', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('mentor_id').notNullable().references('mentors.id').onDelete('CASCADE');
    // sha256 of the token: the token itself is shown once, never stored.
    t.text('token_hash').notNullable().unique();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('last_used_at', { useTz: true });
  });

  await knex.schema.createTable('cohorts', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('name').notNullable();
    t.text('invite_code').notNullable().unique();
    t.boolean('invite_open').notNullable().defaultTo(true);
    t.uuid('created_by').notNullable().references('mentors.id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('cohort_mentors', (t) => {
    t.uuid('cohort_id').notNullable().references('cohorts.id').onDelete('CASCADE');
    t.uuid('mentor_id').notNullable().references('mentors.id').onDelete('CASCADE');
    t.timestamp('added_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['cohort_id', 'mentor_id']);
    t.index(['mentor_id']);
  });

  await knex.schema.createTable('learners', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('cohort_id').notNullable().references('cohorts.id').onDelete('CASCADE');
    t.text('name').notNullable();
    // sha256 of the learner's personal token (kept in their user config, never in the workspace).
    t.text('token_hash').notNullable().unique();
    t.timestamp('joined_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_seen_at', { useTz: true });
    t.unique(['cohort_id', 'name']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['learners', 'cohort_mentors', 'cohorts', 'mentor_tokens', 'mentors'])
    await knex.schema.dropTableIfExists(table);
}
