import type { Knex } from 'knex';

/**
 * Submissions (one per learner, content and step range), their archives and file lists, the
 * result of grading (exactly one per submission), per-step and per-check rows for the dashboard.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('submissions', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('learner_id').notNullable().references('learners.id').onDelete('CASCADE');
    t.uuid('cohort_id').notNullable().references('cohorts.id').onDelete('CASCADE');
    t.specificType('sha256', 'char(64)').notNullable();
    // Grade steps 1..up_to_step (null: the whole course).
    t.smallint('up_to_step');
    t.integer('size_bytes').notNullable();
    t.integer('file_count').notNullable();
    t.text('status').notNullable().defaultTo('queued');
    t.integer('attempts').notNullable().defaultTo(0);
    t.text('worker');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('started_at', { useTz: true });
    t.timestamp('finished_at', { useTz: true });
    t.index(['learner_id', 'created_at']);
    t.index(['cohort_id', 'created_at']);
  });
  await knex.raw(
    `alter table submissions add constraint submissions_status_check
       check (status in ('queued', 'grading', 'graded', 'error'))`,
  );
  await knex.raw(
    'create unique index submissions_same_content on submissions (learner_id, sha256, coalesce(up_to_step, 0))',
  );
  await knex.raw(
    "create index submissions_unfinished on submissions (created_at) where status in ('queued', 'grading')",
  );

  await knex.schema.createTable('submission_archives', (t) => {
    t.uuid('submission_id').primary().references('submissions.id').onDelete('CASCADE');
    // The uploaded tar.gz as sent (its sha256 is submissions.sha256): workers on any machine read it from here.
    t.binary('data').notNullable();
  });

  await knex.schema.createTable('submission_files', (t) => {
    t.uuid('submission_id').notNullable().references('submissions.id').onDelete('CASCADE');
    t.text('path').notNullable();
    t.specificType('sha256', 'char(64)').notNullable();
    t.integer('size_bytes').notNullable();
    t.primary(['submission_id', 'path']);
  });

  await knex.schema.createTable('results', (t) => {
    // Primary key on the submission: a second worker grading the same submission cannot add a second result.
    t.uuid('submission_id').primary().references('submissions.id').onDelete('CASCADE');
    t.text('status').notNullable();
    t.double('score').notNullable();
    t.double('max_score').notNullable();
    t.integer('exit_code').notNullable();
    t.text('runtime').notNullable();
    t.boolean('contained');
    t.text('error_code');
    t.text('error_message');
    // The checker's RunResult (checker/schema/result.schema.json), as it printed it.
    t.jsonb('result').notNullable();
    t.text('worker').notNullable();
    t.integer('duration_ms').notNullable();
    t.timestamp('graded_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('step_results', (t) => {
    t.uuid('submission_id').notNullable().references('submissions.id').onDelete('CASCADE');
    // Denormalised from the submission, so a cohort's grid is one indexed query.
    t.uuid('learner_id').notNullable().references('learners.id').onDelete('CASCADE');
    t.uuid('cohort_id').notNullable().references('cohorts.id').onDelete('CASCADE');
    t.smallint('step_number').notNullable();
    t.text('step_slug').notNullable();
    t.text('status').notNullable();
    t.double('score').notNullable();
    t.double('max_score').notNullable();
    t.timestamp('graded_at', { useTz: true }).notNullable();
    t.primary(['submission_id', 'step_slug']);
    t.index(['cohort_id', 'learner_id', 'step_slug', 'graded_at']);
  });

  await knex.schema.createTable('check_results', (t) => {
    t.bigIncrements('id');
    t.uuid('submission_id').notNullable().references('submissions.id').onDelete('CASCADE');
    t.smallint('step_number').notNullable();
    t.text('step_slug').notNullable();
    t.integer('position').notNullable();
    t.text('check_name').notNullable();
    t.text('status').notNullable();
    t.double('points').notNullable();
    t.double('max_points').notNullable();
    t.text('message').notNullable();
    t.text('hint').notNullable();
    // The app's last log lines when the checker kept them for this failure.
    t.text('log_excerpt');
    t.index(['submission_id']);
    t.index(['step_slug', 'check_name', 'status']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'check_results',
    'step_results',
    'results',
    'submission_files',
    'submission_archives',
    'submissions',
  ])
    await knex.schema.dropTableIfExists(table);
}
