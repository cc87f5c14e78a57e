import type { Command } from 'commander';
import { registerHint } from './hint';
import { registerInit } from './init';
import { registerNext } from './next';
import { registerSolution } from './solution';
import { registerStatus } from './status';
import { registerWatch } from './watch';

/** The learner's loop around `check`: init, status, next, hint, solution, watch. */
export function registerCourseCommands(program: Command): void {
  registerInit(program);
  registerStatus(program);
  registerNext(program);
  registerHint(program);
  registerSolution(program);
  registerWatch(program);
}
