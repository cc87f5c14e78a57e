import type { Command } from 'commander';
import { spawn, type ChildProcess } from 'node:child_process';
import { watch, type FSWatcher } from 'node:fs';
import {
  chosenStep,
  courseContext,
  withStepOption,
  withWorkspaceOption,
  type CourseFlags,
} from './course-options';
import { colorFor, createStyle } from '../reporters/style';

const IGNORED = /^(node_modules|dist|\.git|\.sandbox|coverage)([\\/]|$)/;
const DEBOUNCE_MS = 300;

interface WatchFlags extends CourseFlags {
  only?: boolean;
}

export function registerWatch(program: Command): void {
  const command = program
    .command('watch')
    .description('re-check your next step every time you save a file (Ctrl-C to stop)')
    .option('--only', 'grade just that step, without re-checking the earlier ones');
  withStepOption(withWorkspaceOption(command), 'your next step, re-read after each run');
  command.action((flags: WatchFlags) => watchWorkspace(flags));
}

function watchWorkspace(flags: WatchFlags): Promise<void> {
  const style = createStyle(colorFor(process.stderr));
  const { workspace } = courseContext(flags);
  let child: ChildProcess | undefined;
  let pending = false;
  let timer: NodeJS.Timeout | undefined;

  const runCheck = (): void => {
    if (child) {
      pending = true; // saved again while checking: run once more when this run ends
      return;
    }
    const step = chosenStep(courseContext(flags), flags);
    const args = [
      process.argv[1] ?? '',
      'check',
      '--step',
      String(step.number),
      ...(flags.only ? ['--only'] : []),
    ];
    process.stderr.write(`\n${style.bold(`Checking step ${step.number} (${step.slug})...`)}\n`);
    // The workspace through the environment: the child's run is the learner's own and records progress.
    child = spawn(process.execPath, args, {
      stdio: 'inherit',
      env: { ...process.env, SANDBOX_WORKSPACE: workspace },
    });
    child.on('exit', () => {
      child = undefined;
      process.stderr.write(style.dim(`\nWatching ${workspace} for changes (Ctrl-C to stop)...\n`));
      if (pending) {
        pending = false;
        runCheck();
      }
    });
  };

  const watcher: FSWatcher = watch(workspace, { recursive: true }, (_event, file) => {
    if (file && IGNORED.test(file.toString())) return;
    clearTimeout(timer);
    timer = setTimeout(runCheck, DEBOUNCE_MS);
  });

  runCheck();
  return new Promise((resolve) => {
    process.once('SIGINT', () => {
      clearTimeout(timer);
      watcher.close();
      child?.kill('SIGINT');
      resolve();
    });
  });
}
