import type { Command } from 'commander';
import { sandboxCommand } from '../course/command-line';
import { findStep } from '../course/paths';
import { hasEverPassed } from '../course/progress';
import { hasReference, readReference } from '../course/references';
import { colorFor, createStyle } from '../reporters/style';
import {
  courseContext,
  withStepOption,
  withWorkspaceOption,
  type CourseFlags,
} from './course-options';
import { EXIT } from './exit';

export function registerSolution(program: Command): void {
  const command = program
    .command('solution')
    .description('show the reference change of a step, once your workspace passes it')
    .addHelpText(
      'after',
      '\nThe reference is a diff from the state before the step to the state after it.',
    );
  withStepOption(withWorkspaceOption(command), 'the last step you passed');
  command.action((flags: CourseFlags) => {
    process.exitCode = showSolution(flags);
  });
}

function showSolution(flags: CourseFlags): number {
  const ctx = courseContext(flags);
  const style = createStyle(colorFor(process.stdout));
  const passed = ctx.steps.filter((s) => hasEverPassed(ctx.progress, s));
  const step = flags.step ? findStep(ctx.steps, flags.step) : passed[passed.length - 1];
  if (!step) {
    process.stderr.write(
      `No step has passed yet: solutions open once a step passes. Run \`${sandboxCommand('check --step 1')}\`.\n`,
    );
    return EXIT.failed;
  }
  if (!hasEverPassed(ctx.progress, step)) {
    process.stderr.write(
      `Step ${step.number} (${step.slug}) has not passed yet in ${ctx.workspace}: its solution opens once it does.\n` +
        `Try \`${sandboxCommand(`hint --step ${step.number}`)}\`, then \`${sandboxCommand(`check --step ${step.number}`)}\`.\n`,
    );
    return EXIT.failed;
  }
  if (!hasReference(step)) {
    process.stderr.write(
      `The reference change of step ${step.number} is not written yet (steps/${step.folder}/reference.patch). Compare with reference-app/ instead.\n`,
    );
    return EXIT.cannotGrade;
  }
  process.stdout.write(
    `${style.bold(`Reference change for step ${step.number}: ${step.title}`)}\n\n${colorDiff(readReference(step), style)}`,
  );
  return EXIT.ok;
}

function colorDiff(patch: string, style: ReturnType<typeof createStyle>): string {
  return patch
    .split('\n')
    .map((line) =>
      line.startsWith('+') && !line.startsWith('+++')
        ? style.green(line)
        : line.startsWith('-') && !line.startsWith('---')
          ? style.red(line)
          : line.startsWith('@@')
            ? style.dim(line)
            : line,
    )
    .join('\n');
}
