#!/usr/bin/env node
// Maintainer tooling for the course (steps/MAINTAINING.md): npm run course:<command>.
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { coverageReport } from './coverage';
import { courseRoot, loadSteps } from './paths';
import { buildState, createStack, exportStack, verifyReferences } from './references';
import { syncContracts } from './sync-contract';

const program = new Command('course').description(
  'Maintain the course: lessons, references, states.',
);

program
  .command('sync-contract')
  .description('copy each step section of steps/CONTRACT.md into its lesson')
  .action(() => {
    const changed = syncContracts();
    console.log(
      changed.length
        ? `Updated: ${changed.join(', ')}`
        : 'Every lesson already matches steps/CONTRACT.md.',
    );
  });

program
  .command('state')
  .description('write the reference state after step N (0 = starter) into DIR')
  .argument('<step>', 'step number, 0 to 9')
  .argument('<dir>', 'a folder that does not exist yet')
  .action((step: string, dir: string) => {
    const target = resolve(dir);
    if (existsSync(target)) throw new Error(`${target} exists; choose a new folder`);
    buildState(target, Number(step));
    console.log(`State after step ${step} written to ${target}`);
  });

program
  .command('stack')
  .description(
    'create a git repository in DIR with one commit per step, to edit the references with git',
  )
  .argument('[dir]', 'a folder that does not exist yet', '.cache/course-stack')
  .action((dir: string) => {
    const target = resolve(courseRoot(), dir);
    if (existsSync(target)) throw new Error(`${target} exists; remove it or choose another folder`);
    const { commits, unassigned } = createStack(target);
    console.log(`${target}: ${commits} commits (branch "course").`);
    if (unassigned)
      console.log(
        'The last commit holds reference-app changes not yet assigned to a step: split it (git rebase -i).',
      );
    console.log(`Then: npm run course:export -- ${dir}`);
  });

program
  .command('export')
  .description("write steps/NN-slug/reference.patch from a stack's commits")
  .argument('[dir]', 'the stack repository', '.cache/course-stack')
  .action((dir: string) => {
    const written = exportStack(resolve(courseRoot(), dir));
    console.log(`Wrote reference.patch for: ${written.join(', ') || 'nothing'}`);
  });

program
  .command('coverage')
  .description(
    'compare steps/coverage.json with the contract, the checks and the broken catalogue; print the figures',
  )
  .action(() => {
    const r = coverageReport(courseRoot());
    console.log(
      [
        `contract sentences: ${r.sentences} (${r.covered} mapped to checks and broken cases, ${r.untestable} listed as untestable)`,
        `checks: ${r.checks.total} (${r.checks.mapped} named by the map)`,
        `broken cases: ${r.cases.total} (${r.cases.mapped} named by the map)`,
      ].join('\n'),
    );
    if (r.problems.length > 0) {
      console.error(
        `\n${r.problems.length} problem(s):\n${r.problems.map((p) => `- ${p}`).join('\n')}`,
      );
      process.exitCode = 1;
    }
  });

program
  .command('verify')
  .description('check that the starter plus all nine patches rebuild reference-app exactly')
  .action(() => {
    const { missing, differences } = verifyReferences();
    if (missing.length > 0) {
      console.error(
        `Missing reference patches: ${missing.join(', ')} (of ${loadSteps().length} steps).`,
      );
      process.exitCode = 1;
    } else if (differences.length > 0) {
      console.error(
        `The rebuilt state after the last step differs from reference-app:\n${differences.join('\n')}`,
      );
      process.exitCode = 1;
    } else {
      console.log('starter + all reference patches == reference-app');
    }
  });

program.parseAsync().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 2;
});
