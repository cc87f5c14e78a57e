import type { Command } from 'commander';
import { registerCheck } from './check';
import { registerCohortCommands } from './cohort';
import { registerCourseCommands } from './course';
import { registerDoctor } from './doctor';
import { registerGrade } from './grade';
import { registerServices } from './services';

/** Registers one subcommand on the `sandbox` program. */
export type RegisterCommand = (program: Command) => void;

/** Every `sandbox` subcommand, in the order `--help` lists them. Add a command: write commands/NAME.ts, list it here. */
export const commands: RegisterCommand[] = [
  registerCheck,
  registerGrade,
  registerDoctor,
  registerServices,
  registerCourseCommands,
  registerCohortCommands,
];
