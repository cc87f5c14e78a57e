import { orphaned, ownerTag, processStart } from '../sandbox/owner';

/** Every container, network and image the checker creates carries these labels (cleanup is by label). */
export const LABEL = 'backend-sandbox';
export const LABEL_RUN = 'backend-sandbox.run';
export const LABEL_OWNER_PID = 'backend-sandbox.pid';
/** `PID-START` of the checker that made it (sandbox/owner.ts): a recycled pid is not its owner. */
export const LABEL_OWNER = 'backend-sandbox.owner';
/** Images kept in the bounded cache (build/image-cache.ts): `deps` or `workspace`. */
export const LABEL_CACHE = 'backend-sandbox.cache';

export function runLabels(runId: string): Record<string, string> {
  return {
    [LABEL]: 'true',
    [LABEL_RUN]: runId,
    [LABEL_OWNER_PID]: String(process.pid),
    [LABEL_OWNER]: ownerTag(),
  };
}

/** The labelled object's checker process is gone (an interrupted or killed run). */
export function ownerGone(labels: Record<string, string> | undefined | null): boolean {
  const owner = labels?.[LABEL_OWNER];
  if (owner) return orphaned(owner);
  // Labelled before owners had a start time: the pid alone.
  const pid = Number(labels?.[LABEL_OWNER_PID]);
  return !Number.isInteger(pid) || pid <= 0 || processStart(pid) === undefined;
}
