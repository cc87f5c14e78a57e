import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type Dockerode from 'dockerode';
import { LogBuffer } from '../../app/log-buffer';
import { containerExit, killContainer, STOPS_BY_SIGKILL } from '../container-exit';
import { engineKind } from '../engine-kind';
import { runLabels } from '../labels';
import { hostLimits, type ContainerLimits } from '../limits';

export interface StageOptions {
  image: string;
  runId: string;
  /** deps or build: part of the container's name. */
  name: string;
  /** The stage's script in docker/learner-build/, mounted at /sandbox. */
  script: string;
  scriptsDir: string;
  /** Mounted read-only at /src. */
  source: string;
  user: string;
  /** `none`, or the dependency stage's firewalled network. */
  network: string;
  limits: ContainerLimits;
  /** Capabilities back on top of "none" (the dependency stage chowns /app). */
  capAdd?: string[];
  /** Ends the stage (kill and remove) when aborted: the run's time limit, Ctrl-C, the build timeout. */
  signal: AbortSignal;
}

export type StageOutcome =
  | { kind: 'done'; container: Dockerode.Container; logs: LogBuffer }
  | { kind: 'failed'; exitCode: number; logs: LogBuffer }
  | { kind: 'over-disk'; logs: LogBuffer }
  | { kind: 'stopped'; logs: LogBuffer };

/** Between two measures of what a stage wrote (each one walks its layer: about a second under load). */
const DISK_POLL_MS = 1000;

/** Resolves once the container's writable layer holds more than `bytes` (measured until `done`). */
async function overDisk(
  container: Dockerode.Container,
  bytes: number,
  done: { ended: boolean },
): Promise<'over-disk'> {
  for (;;) {
    await new Promise((r) => setTimeout(r, DISK_POLL_MS).unref());
    if (done.ended) return new Promise<never>(() => undefined);
    // The engine's `size` query (SizeRw: the writable layer), which dockerode passes but does not type.
    const withSize = { size: true } as unknown as Dockerode.ContainerInspectOptions;
    const info = (await container.inspect(withSize).catch(() => undefined)) as
      { SizeRw?: number } | undefined;
    if ((info?.SizeRw ?? 0) > bytes) return 'over-disk';
  }
}

/**
 * Runs one build stage in a container of its own and waits for its end. The stage's processes
 * live in the container's pid namespace, so whatever it starts in the background dies with it.
 * The caller commits a `done` container, then removes it; `failed`/`stopped` ones are removed here.
 */
export async function runStage(docker: Dockerode, o: StageOptions): Promise<StageOutcome> {
  const logs = new LogBuffer();
  const container = await docker.createContainer({
    Image: o.image,
    name: `sandbox-${o.runId}-${o.name}-${randomBytes(3).toString('hex')}`,
    Entrypoint: ['/bin/sh', `/sandbox/${o.script}`],
    Cmd: [],
    User: o.user,
    WorkingDir: '/',
    Env: ['HOME=/tmp'],
    Labels: runLabels(o.runId),
    ...STOPS_BY_SIGKILL,
    HostConfig: {
      ...hostLimits(o.limits.buildMemoryBytes, o.limits, await engineKind(docker)),
      NetworkMode: o.network,
      Binds: [`${o.source}:/src:ro`, `${o.scriptsDir}:/sandbox:ro`],
      ...(o.capAdd ? { CapAdd: o.capAdd } : {}),
    },
  });
  const remove = (): Promise<void> =>
    container.remove({ force: true, v: true }).then(
      () => undefined,
      () => undefined,
    );
  try {
    const stream = await container.attach({ stream: true, stdout: true, stderr: true });
    const out = new PassThrough();
    out.on('data', (chunk: Buffer) => logs.append(chunk));
    docker.modem.demuxStream(stream, out, out);
    stream.on('end', () => out.end());
    if (o.signal.aborted) {
      await remove();
      return { kind: 'stopped', logs };
    }
    await container.start();
    const stopped = new Promise<'stopped'>((resolve) =>
      o.signal.addEventListener('abort', () => resolve('stopped'), { once: true }),
    );
    const watching = { ended: false };
    const ended = await Promise.race([
      containerExit(container, stream),
      stopped,
      overDisk(container, o.limits.buildDiskBytes, watching),
    ]);
    watching.ended = true;
    if (ended === 'over-disk') {
      await killContainer(container);
      await remove();
      return { kind: 'over-disk', logs };
    }
    if (ended === 'stopped') {
      await killContainer(container);
      await remove();
      return { kind: 'stopped', logs };
    }
    if (ended !== 0) {
      await remove();
      return { kind: 'failed', exitCode: ended, logs };
    }
    return { kind: 'done', container, logs };
  } catch (e) {
    await remove();
    throw e;
  }
}
