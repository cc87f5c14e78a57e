import { engine } from './client';
import { sweepFirewallRules } from './firewall';
import { LABEL, LABEL_OWNER_PID, LABEL_RUN, ownerGone } from './labels';

export interface RemovedCount {
  containers: number;
  networks: number;
  volumes: number;
}

async function listLabelled(label: string): Promise<{
  containers: { Id: string; Labels?: Record<string, string> }[];
  networks: { Id: string; Labels?: Record<string, string> }[];
  volumes: { Name: string; Labels?: Record<string, string> | null }[];
}> {
  const docker = await engine();
  const filters = { label: [label] };
  const [containers, networks, volumes] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
    docker.listVolumes({ filters }),
  ]);
  return { containers, networks, volumes: volumes.Volumes ?? [] };
}

/**
 * Removes containers, networks and volumes labelled by the sandbox. With `runId`, only that run's;
 * with `orphansOnly`, only those whose owning checker process is gone (interrupted runs), and the
 * firewall rules of dead owners with them.
 */
export async function removeLabelled(
  opts: { runId?: string; orphansOnly?: boolean } = {},
): Promise<RemovedCount> {
  const docker = await engine();
  const found = await listLabelled(opts.runId ? `${LABEL_RUN}=${opts.runId}` : `${LABEL}=true`);
  const mine = (labels: Record<string, string> | undefined | null): boolean =>
    !opts.orphansOnly || ownerGone(labels);
  const removed: RemovedCount = { containers: 0, networks: 0, volumes: 0 };
  for (const c of found.containers.filter((c) => mine(c.Labels))) {
    await docker
      .getContainer(c.Id)
      .remove({ force: true, v: true })
      .then(() => removed.containers++)
      .catch(() => undefined);
  }
  for (const n of found.networks.filter((n) => mine(n.Labels))) {
    await docker
      .getNetwork(n.Id)
      .remove()
      .then(() => removed.networks++)
      .catch(() => undefined);
  }
  for (const v of found.volumes.filter((v) => mine(v.Labels))) {
    await docker
      .getVolume(v.Name)
      .remove()
      .then(() => removed.volumes++)
      .catch(() => undefined);
  }
  if (opts.orphansOnly) sweepFirewallRules();
  return removed;
}

async function count(label: string): Promise<RemovedCount> {
  const found = await listLabelled(label);
  return {
    containers: found.containers.length,
    networks: found.networks.length,
    volumes: found.volumes.length,
  };
}

/** Counts what carries the sandbox label (tests assert nothing is left). */
export function countLabelled(runId?: string): Promise<RemovedCount> {
  return count(runId ? `${LABEL_RUN}=${runId}` : `${LABEL}=true`);
}

/** Counts what a checker process (by its pid label) left: zero once its runs are disposed. */
export function countOwnedBy(pid: number): Promise<RemovedCount> {
  return count(`${LABEL_OWNER_PID}=${pid}`);
}
