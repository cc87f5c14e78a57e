import type { Command } from 'commander';
import { sandboxCommand } from '../course/command-line';
import { lessonWithoutHints, readLesson } from '../course/lesson';
import { nextStep } from '../course/progress';
import { colorFor, createStyle } from '../reporters/style';
import {
  chosenStep,
  courseContext,
  withStepOption,
  withWorkspaceOption,
  type CourseFlags,
} from './course-options';

export function registerNext(program: Command): void {
  const command = program
    .command('next')
    .description(
      'show the lesson of your next step (hints come one at a time with `sandbox hint`)',
    );
  withStepOption(withWorkspaceOption(command), 'the first step that has not passed');
  command.action((flags: CourseFlags) => {
    const ctx = courseContext(flags);
    const style = createStyle(colorFor(process.stdout));
    if (!flags.step && !nextStep(ctx.progress, ctx.steps)) {
      process.stdout.write(
        `${style.green('Every step passes: the course is done.')} Compare with the reference: \`${sandboxCommand('solution --step 9')}\`.\n`,
      );
      return;
    }
    const lesson = readLesson(chosenStep(ctx, flags));
    process.stdout.write(
      `${style.dim(`steps/${lesson.step.folder}/README.md`)}\n\n${lessonWithoutHints(lesson.markdown)}`,
    );
  });
}
