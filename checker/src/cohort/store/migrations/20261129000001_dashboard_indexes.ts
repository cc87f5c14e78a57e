import type { Knex } from 'knex';

/**
 * Indexes for the dashboard's grid, found with EXPLAIN ANALYZE on the bench's seed (200 learners,
 * 5,000 submissions): the latest cell per learner and step was a sort of every step row of the
 * cohort (now read in order from the index, columns included), and the "stuck" filter read
 * every check of each recent submission to keep the failing ones (now only those).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    'create index step_results_latest on step_results (cohort_id, learner_id, step_number, graded_at desc) include (submission_id, status, score, max_score)',
  );
  await knex.raw(
    "create index check_results_failing on check_results (submission_id) include (step_slug, check_name) where status <> 'pass'",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists check_results_failing');
  await knex.raw('drop index if exists step_results_latest');
}
