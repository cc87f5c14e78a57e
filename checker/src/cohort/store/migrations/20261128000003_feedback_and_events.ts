import type { Knex } from 'knex';

/** A mentor's notes to a learner (with when the learner's CLI received them and marked them read), and the event log the live stream reads. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('feedback_notes', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('cohort_id').notNullable().references('cohorts.id').onDelete('CASCADE');
    t.uuid('learner_id').notNullable().references('learners.id').onDelete('CASCADE');
    t.uuid('mentor_id').notNullable().references('mentors.id');
    t.text('step_slug');
    t.text('message').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('received_at', { useTz: true });
    t.timestamp('read_at', { useTz: true });
    t.index(['learner_id', 'created_at']);
  });

  await knex.schema.createTable('events', (t) => {
    // Ordered: the stream's Last-Event-ID is this id.
    t.bigIncrements('id');
    t.uuid('cohort_id').notNullable().references('cohorts.id').onDelete('CASCADE');
    t.uuid('learner_id').references('learners.id').onDelete('CASCADE');
    t.uuid('submission_id').references('submissions.id').onDelete('CASCADE');
    t.text('type').notNullable();
    t.jsonb('payload').notNullable().defaultTo('{}');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['cohort_id', 'id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('events');
  await knex.schema.dropTableIfExists('feedback_notes');
}
