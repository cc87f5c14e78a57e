import type { Command } from 'commander';
import { sandboxCommand } from '../course/command-line';
import { nextStep, readFeedback, type StepProgress } from '../course/progress';
import { colorFor, createStyle, type Style } from '../reporters/style';
import { terminalSafe } from '../reporters/terminal-text';
import { courseContext, withWorkspaceOption, type CourseFlags } from './course-options';

export function registerStatus(program: Command): void {
  const command = program
    .command('status')
    .description('your progress across the steps, the next step, and mentor feedback');
  withWorkspaceOption(command).action(async (flags: CourseFlags) => {
    const ctx = courseContext(flags);
    // A learner in a cohort gets the mentor's newest notes here too (not only with `sandbox submit`).
    const { refreshFeedbackIfJoined } =
      require('../cohort/client/feedback-sync') as typeof import('../cohort/client/feedback-sync');
    const refresh = await refreshFeedbackIfJoined(ctx.workspace);
    const style = createStyle(colorFor(process.stdout));
    const out = [`Workspace: ${ctx.workspace}`, ''];
    for (const step of ctx.steps) {
      const p = ctx.progress.steps[step.slug];
      const hints = ctx.progress.hints[step.slug] ?? 0;
      const hinted = hints > 0 ? style.dim(` · ${hints} hint${hints > 1 ? 's' : ''} revealed`) : '';
      out.push(
        `  ${mark(p, style)} ${String(step.number).padStart(2)} ${step.slug.padEnd(14)} ${describe(p, style)}${hinted}`,
      );
    }
    const next = nextStep(ctx.progress, ctx.steps);
    out.push('');
    out.push(
      next
        ? `Next: step ${next.number}, ${next.title}. Lesson: \`${sandboxCommand('next')}\`; check: \`${sandboxCommand(`check --step ${next.number}`)}\`.`
        : style.green('Every step passes. Well done!'),
    );
    const feedback = readFeedback(ctx.workspace);
    if (refresh.problem) out.push('', style.dim(terminalSafe(refresh.problem)));
    if (feedback.length > 0) {
      out.push('', style.bold('Mentor feedback:'));
      for (const f of feedback)
        out.push(
          terminalSafe(
            `  ${f.at.slice(0, 10)} ${f.author}${f.step ? ` (step ${f.step})` : ''}: ${f.message}`,
          ),
        );
    }
    process.stdout.write(`${out.join('\n')}\n`);
    if (feedback.length > 0) await refresh.markRead();
  });
}

function mark(p: StepProgress | undefined, style: Style): string {
  if (!p) return style.dim('·');
  return p.status === 'pass'
    ? style.green('✓')
    : p.status === 'fail'
      ? style.red('✗')
      : style.yellow('!');
}

function describe(p: StepProgress | undefined, style: Style): string {
  if (!p) return style.dim('not checked yet');
  const score = `${p.score}/${p.maxScore}`.padStart(7);
  if (p.status === 'pass') return `${score}  passed`;
  const shown = terminalSafe(p.failing.slice(0, 2).join('; '));
  const more = p.failing.length > 2 ? ` (+${p.failing.length - 2} more)` : '';
  const before = p.passedAt ? ' (it passed before)' : '';
  return `${score}  ${p.status === 'error' ? 'could not be graded' : 'failing'}${before}: ${shown}${more}`;
}
