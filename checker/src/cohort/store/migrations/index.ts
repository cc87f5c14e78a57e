import type { Knex } from 'knex';
import * as accounts from './20261128000001_accounts';
import * as submissions from './20261128000002_submissions';
import * as feedbackAndEvents from './20261128000003_feedback_and_events';
import * as dashboardSessions from './20261128000010_dashboard_sessions';
import * as dashboardIndexes from './20261129000001_dashboard_indexes';

/** Every migration of the cohort service, in order; listed (no directory scan) so src and dist run the same. */
const migrations: ReadonlyArray<readonly [string, Knex.Migration]> = [
  ['20261128000001_accounts', accounts],
  ['20261128000002_submissions', submissions],
  ['20261128000003_feedback_and_events', feedbackAndEvents],
  ['20261128000010_dashboard_sessions', dashboardSessions],
  ['20261129000001_dashboard_indexes', dashboardIndexes],
];

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: () => Promise.resolve(migrations.map(([name]) => name)),
  getMigrationName: (name) => name,
  getMigration: (name) => {
    const found = migrations.find(([candidate]) => candidate === name);
    if (!found) return Promise.reject(new Error(`unknown migration ${name}`));
    return Promise.resolve(found[1]);
  },
};
