import { SetupError } from '../app/setup-error';
import type { AppSandbox } from './limits';
import { createCgroups, FILE_SIZE_MAX_BYTES, PIDS_MAX, PRLIMIT_BIN } from './limits';
import { abstractSocketScopeAvailable } from './abstract-sockets';
import { confinedCommand } from './confine';
import { takeSetupFailure } from './filesystem-view';
import type { RunUser } from './run-user';

export interface ConfinedSandboxOptions {
  user: RunUser;
  /** writeViewScript()'s file. */
  viewScript: string;
  home: string;
  tmp: string;
  /** Install scripts and the build: a network namespace of their own (confine.ts). */
  offline?: boolean;
  /** The app: its run dir read-only (it writes only to its private /tmp). */
  readOnlyRunDir?: boolean;
  /** Setup: how much may be written into the run dir (run-command.ts stops the command past it). */
  diskBudget?: { dir: string; bytes: number };
}

/** The confinement could not be set up (a mount, a cgroup): the checker's failure (exit 2), not the workspace's. */
export function confinementFailed(output: string): SetupError {
  return new SetupError(
    'checker',
    'SANDBOX_FAILED',
    'The checker could not set up the sandbox the workspace runs in (its output is below); nothing of the workspace ran. `sandbox doctor` says what this machine has.',
    output,
  );
}

/** A contained process tree: cgroups of its own, run as the run's uid in a mount namespace (confine.ts). */
export function createConfinedSandbox(opts: ConfinedSandboxOptions): AppSandbox {
  const cgroups = createCgroups();
  const prlimit = PRLIMIT_BIN
    ? [
        PRLIMIT_BIN,
        `--nproc=${PIDS_MAX}:${PIDS_MAX}`,
        `--fsize=${FILE_SIZE_MAX_BYTES}:${FILE_SIZE_MAX_BYTES}`,
        '--',
      ]
    : [];
  return {
    command: (body) =>
      confinedCommand(
        {
          user: opts.user,
          viewScript: opts.viewScript,
          enterPrefix: cgroups.enterPrefix,
          prlimit,
          ...(opts.offline ? { offline: true } : {}),
          ...(opts.readOnlyRunDir ? { readOnlyRunDir: true } : {}),
        },
        body,
      ),
    home: opts.home,
    tmp: opts.tmp,
    ...(opts.diskBudget ? { diskBudget: opts.diskBudget } : {}),
    setupFailure: () => takeSetupFailure(opts.user.uid),
    pids: () => cgroups.pids(),
    dispose: () => cgroups.dispose(),
    describe: () =>
      `${cgroups.describe()}, uid ${opts.user.uid}, ${opts.offline ? 'no network' : 'network fenced'}${abstractSocketScopeAvailable() ? ', abstract unix sockets scoped' : ''}`,
  };
}
