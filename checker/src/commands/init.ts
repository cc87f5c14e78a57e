import type { Command } from 'commander';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { courseRoot, starterDir } from '../course/paths';
import { copyWorkspace } from '../workspace/copy';
import { rememberWorkspace } from '../course/workspace';
import { writeWorkspaceFile } from '../workspace/files';
import { colorFor, createStyle } from '../reporters/style';
import { EXIT } from './exit';

interface InitFlags {
  git: boolean;
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('create your workspace from the starter, with git and a first commit')
    .argument('[dir]', 'where to create it (a new or empty folder)', 'my-backend')
    .option('--no-git', 'do not run git init')
    .addHelpText(
      'after',
      '\nThe course remembers this workspace: later commands run from the course folder use it.',
    )
    .action((dir: string, flags: InitFlags) => {
      process.exitCode = initWorkspace(resolve(dir), flags);
    });
}

export function initWorkspace(
  target: string,
  flags: InitFlags,
  root: string = courseRoot(),
): number {
  const style = createStyle(colorFor(process.stdout));
  if (existsSync(target) && readdirSync(target).length > 0) {
    process.stderr.write(
      `${target} already exists and is not empty: choose a new folder, e.g. \`npx sandbox init my-backend-2\`.\n`,
    );
    return EXIT.cannotGrade;
  }
  copyWorkspace(starterDir(root), target);
  if (flags.git) initGit(target);
  rememberWorkspace(target, root);
  // `npm run check` in the workspace finds the course through this file (steps/starter/scripts/sandbox.js).
  writeWorkspaceFile(
    target,
    '.sandbox/course.json',
    `${JSON.stringify({ course: root }, null, 2)}\n`,
  );
  const nearby = relative(process.cwd(), target) || '.';
  // A path that climbs out of the course folder reads better absolute.
  const shown = nearby.startsWith('..') ? target : nearby;
  process.stdout.write(
    [
      `${style.green('✓')} Created your workspace in ${style.bold(shown)}${flags.git ? ' (git repository, first commit made)' : ''}.`,
      '',
      'Next:',
      `  1. ${style.bold(`cd ${shown} && npm install`)}   install the course's libraries (once)`,
      `  2. ${style.bold('npm run sandbox -- next')}   read the lesson of step 1`,
      `  3. edit ${style.bold('src/server.ts')} where it says // TODO:`,
      `  4. ${style.bold('npm run check -- --step 1')}   (or ${style.bold('npm run sandbox -- watch')} to re-check on every save)`,
      '',
      'In the workspace (any subfolder), `npm run check` and `npm run sandbox -- <command>` run this',
      'course’s checker; from the course folder, `npx sandbox <command>` does the same.',
      '',
    ].join('\n'),
  );
  return EXIT.ok;
}

function initGit(dir: string): void {
  const git = (args: string[]): void => {
    execFileSync('git', args, {
      cwd: dir,
      stdio: 'ignore',
      env: { ...process.env, ...gitIdentity(dir) },
    });
  };
  git(['init', '--quiet']);
  git(['add', '-A']);
  git(['commit', '--quiet', '-m', 'Start from the backend-sandbox starter']);
}

/** A fallback author when the learner has not configured git yet (the commit must not fail). */
function gitIdentity(dir: string): Record<string, string> {
  try {
    execFileSync('git', ['config', 'user.email'], { cwd: dir, stdio: 'pipe' });
    return {};
  } catch {
    const who = { name: 'Sandbox learner', email: 'learner@sandbox.invalid' };
    return {
      GIT_AUTHOR_NAME: who.name,
      GIT_AUTHOR_EMAIL: who.email,
      GIT_COMMITTER_NAME: who.name,
      GIT_COMMITTER_EMAIL: who.email,
    };
  }
}
