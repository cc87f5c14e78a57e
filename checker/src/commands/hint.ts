import type { Command } from 'commander';
import { readLesson } from '../course/lesson';
import { sandboxCommand } from '../course/command-line';
import { hasEverPassed, revealHint } from '../course/progress';
import { colorFor, createStyle } from '../reporters/style';
import {
  chosenStep,
  courseContext,
  withStepOption,
  withWorkspaceOption,
  type CourseFlags,
} from './course-options';

export function registerHint(program: Command): void {
  const command = program
    .command('hint')
    .description('reveal one more hint of a step each time (remembered in .sandbox/progress.json)');
  withStepOption(withWorkspaceOption(command), 'your next step');
  command.action((flags: CourseFlags) => {
    const ctx = courseContext(flags);
    const { step, hints } = readLesson(chosenStep(ctx, flags));
    const style = createStyle(colorFor(process.stdout));
    const before = ctx.progress.hints[step.slug] ?? 0;
    const revealed = revealHint(ctx.workspace, step, hints.length);
    const out: string[] = [style.bold(`Step ${step.number}: ${step.title}`), ''];
    hints.slice(0, revealed).forEach((hint, i) => {
      const fresh = i === revealed - 1 && revealed > before;
      out.push(
        `${fresh ? style.yellow(`Hint ${i + 1} of ${hints.length} (new)`) : style.dim(`Hint ${i + 1} of ${hints.length}`)}`,
        hint,
        '',
      );
    });
    out.push(
      revealed < hints.length
        ? style.dim(
            `Stuck still? \`${sandboxCommand(`hint --step ${step.number}`)}\` reveals hint ${revealed + 1}.`,
          )
        : style.dim(
            hasEverPassed(ctx.progress, step)
              ? `That was the last hint. The step has passed: \`${sandboxCommand(`solution --step ${step.number}`)}\` shows the reference.`
              : `That was the last hint. Once the step passes, \`${sandboxCommand(`solution --step ${step.number}`)}\` shows the reference.`,
          ),
      '',
    );
    process.stdout.write(out.join('\n'));
  });
}
