import type { AppSandbox } from './limits';
import { createCgroups, PIDS_MAX, PRLIMIT_BIN } from './limits';
import { confinedCommand } from './confine';
import type { RunUser } from './run-user';

export interface ConfinedSandboxOptions {
  user: RunUser;
  /** writeViewScript()'s file. */
  viewScript: string;
  home: string;
  tmp: string;
  /** Install scripts and the build: a network namespace of their own (confine.ts). */
  offline?: boolean;
}

/** A contained process tree: cgroups of its own, run as the run's uid in a mount namespace (confine.ts). */
export function createConfinedSandbox(opts: ConfinedSandboxOptions): AppSandbox {
  const cgroups = createCgroups();
  const prlimit = PRLIMIT_BIN ? [PRLIMIT_BIN, `--nproc=${PIDS_MAX}:${PIDS_MAX}`, '--'] : [];
  return {
    command: (body) =>
      confinedCommand(
        {
          user: opts.user,
          viewScript: opts.viewScript,
          enterPrefix: cgroups.enterPrefix,
          prlimit,
          ...(opts.offline ? { offline: true } : {}),
        },
        body,
      ),
    home: opts.home,
    tmp: opts.tmp,
    pids: () => cgroups.pids(),
    dispose: () => cgroups.dispose(),
    describe: () =>
      `${cgroups.describe()}, uid ${opts.user.uid}, ${opts.offline ? 'no network' : 'network fenced'}`,
  };
}
