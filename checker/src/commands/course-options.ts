import type { Command } from 'commander';
import { findStep, loadSteps, type StepInfo } from '../course/paths';
import { nextStep, readProgress, type Progress } from '../course/progress';
import { resolveWorkspace } from '../course/workspace';

export interface CourseFlags {
  workspace?: string;
  step?: string;
}

export interface CourseContext {
  workspace: string;
  steps: StepInfo[];
  progress: Progress;
}

export function withWorkspaceOption(command: Command): Command {
  return command.option(
    '--workspace <dir>',
    'your workspace (default: this folder if it is one, else the one `sandbox init` made)',
  );
}

export function withStepOption(command: Command, what: string): Command {
  return command.option('--step <n|slug>', `the step (default: ${what})`);
}

export function courseContext(flags: CourseFlags): CourseContext {
  const workspace = resolveWorkspace(flags.workspace);
  return { workspace, steps: loadSteps(), progress: readProgress(workspace) };
}

/** The --step given, else the next step to do, else the last step (the course is done). */
export function chosenStep(ctx: CourseContext, flags: CourseFlags): StepInfo {
  if (flags.step) return findStep(ctx.steps, flags.step);
  const last = ctx.steps[ctx.steps.length - 1];
  const step = nextStep(ctx.progress, ctx.steps) ?? last;
  if (!step) throw new Error('steps/manifest.json lists no steps');
  return step;
}
