import type Dockerode from 'dockerode';

/** The two Docker-API engines the sandbox runs on; where they differ, the difference lives here. */
export type EngineKind = 'docker' | 'podman';

/** The part of the engine's `GET /version` answer that names it. */
export interface VersionAnswer {
  Components?: { Name?: string }[] | null;
  Platform?: { Name?: string } | null;
}

/**
 * Podman's Docker-compatible API names its component "Podman Engine"; Docker's names "Engine",
 * "containerd", "runc". Anything not Podman is treated as Docker: its options are the documented
 * Docker API's (Podman 4.3 accepts them too, measured: `json-file` with `max-size`).
 */
export function engineKindOf(version: VersionAnswer): EngineKind {
  const names = (version.Components ?? []).map((c) => c.Name ?? '');
  return names.some((n) => /^podman/i.test(n)) ? 'podman' : 'docker';
}

const kinds = new WeakMap<Dockerode, Promise<EngineKind>>();

/** The engine behind this client, asked once per client (`/version`). */
export function engineKind(docker: Dockerode): Promise<EngineKind> {
  let kind = kinds.get(docker);
  if (!kind) {
    kind = (docker.version() as Promise<VersionAnswer>).then(engineKindOf);
    // A failed answer is asked again next time rather than remembered.
    kind.catch(() => kinds.delete(docker));
    kinds.set(docker, kind);
  }
  return kind;
}

/** What the engine keeps of a container's output on disk (the checker reads it by attaching). */
const LOG_MAX_BYTES = '1m';

/**
 * The log driver and its size cap: Docker's `json-file` (`max-size`, one file), Podman's own
 * `k8s-file` (`max-size`; it has no `max-file`). `k8s-file` exists only in Podman: Docker refuses
 * to create a container that names it.
 */
export function logConfig(kind: EngineKind): { Type: string; Config: Record<string, string> } {
  return kind === 'podman'
    ? { Type: 'k8s-file', Config: { 'max-size': LOG_MAX_BYTES } }
    : { Type: 'json-file', Config: { 'max-size': LOG_MAX_BYTES, 'max-file': '1' } };
}
