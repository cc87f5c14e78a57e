import type Dockerode from 'dockerode';

/** How often the container is inspected when its output stream has not ended (a missed end, a stream that broke). */
const POLL_MS = 1000;

/**
 * The exit code of a started container, once it has stopped: 128 + n when signal n ended it.
 *
 * Not `container.wait()`: podman 4's Docker-compatible wait busy-polls the container's state (about
 * 0.75 CPU-second per second of waiting, measured on podman 4.3.1), so each app container and
 * build stage kept a core of a 2-core grading machine busy and two gradings at once ran no faster
 * than one; called on a container that has already stopped, it answers only after 20 s. Here the
 * end of the container's attached output stream says when to look, and an inspect (about 16 ms of
 * the engine's CPU) reads the exit code; a slow poll covers a stream that ends early or never.
 * Rejects when the container is gone (removed before it was seen stopped).
 */
export async function containerExit(
  container: Dockerode.Container,
  output: NodeJS.ReadableStream,
): Promise<number> {
  const stream = output as NodeJS.ReadableStream & { readableEnded?: boolean; destroyed?: boolean };
  let ended = Boolean(stream.readableEnded || stream.destroyed);
  let wake: (() => void) | undefined;
  const onEnd = (): void => {
    ended = true;
    wake?.();
  };
  output.once('end', onEnd);
  output.once('close', onEnd);
  output.once('error', onEnd);
  try {
    for (;;) {
      const { State } = await container.inspect();
      if (State.Status !== 'created' && !State.Running && !State.Paused) return State.ExitCode;
      // Stream ended but the state lags behind: look again soon; otherwise when it ends, or at the poll.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ended ? 100 : POLL_MS);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    output.off('end', onEnd);
    output.off('close', onEnd);
    output.off('error', onEnd);
  }
}

/** Create containers with this, so that stopping one (killContainer, a forced removal) is a SIGKILL at once. */
export const STOPS_BY_SIGKILL = { StopSignal: 'SIGKILL' } as const;

/**
 * SIGKILLs a container created with STOPS_BY_SIGKILL and resolves once it has stopped. A stop with
 * no grace time rather than `kill`: podman 4's Docker-compatible kill waits after a SIGKILL for
 * the container's end, which takes 20 s when nothing else is watching it (podman 4.3.1 here).
 */
export async function killContainer(container: Dockerode.Container): Promise<void> {
  await container.stop({ t: 0 }).catch(() => undefined);
}
