import { logConfig, type EngineKind } from './engine-kind';

/** Limits of the learner's containers (override with SANDBOX_CONTAINER_* variables). */
export interface ContainerLimits {
  memoryBytes: number;
  cpus: number;
  pids: number;
  /** The app's container is killed after this long, whatever it does. */
  maxRunMs: number;
  /** Bytes of output read from the app; the rest is dropped (the log buffer keeps the tail). */
  maxOutputBytes: number;
  /** The image build (dependency and build stages together), bounded again by the run's --timeout. */
  buildTimeoutMs: number;
  /** Memory of a build stage (npm and tsc need more than the app). */
  buildMemoryBytes: number;
  /** What a build stage may write into its container's layer; past it the stage is stopped. */
  buildDiskBytes: number;
}

export function containerLimits(env: NodeJS.ProcessEnv = process.env): ContainerLimits {
  const num = (name: string, fallback: number): number => {
    const v = Number(env[name]);
    return Number.isFinite(v) && v > 0 ? v : fallback;
  };
  return {
    memoryBytes: num('SANDBOX_CONTAINER_MEMORY_MB', 512) * 1024 * 1024,
    cpus: num('SANDBOX_CONTAINER_CPUS', 1),
    pids: num('SANDBOX_CONTAINER_PIDS', 256),
    maxRunMs: num('SANDBOX_CONTAINER_MAX_RUN_S', 900) * 1000,
    maxOutputBytes: num('SANDBOX_CONTAINER_MAX_OUTPUT_MB', 16) * 1024 * 1024,
    buildTimeoutMs: num('SANDBOX_CONTAINER_BUILD_TIMEOUT_S', 600) * 1000,
    buildMemoryBytes: num('SANDBOX_CONTAINER_BUILD_MEMORY_MB', 1024) * 1024 * 1024,
    buildDiskBytes: num('SANDBOX_CONTAINER_BUILD_DISK_MB', 2048) * 1024 * 1024,
  };
}

export function describeLimits(l: ContainerLimits): string {
  return `memory ${Math.round(l.memoryBytes / 1048576)} MB, ${l.cpus} CPU, ${l.pids} pids, read-only root, no network but its services`;
}

/** The HostConfig limits every learner container gets, its log capped in the engine's own driver. */
export function hostLimits(
  memoryBytes: number,
  l: ContainerLimits,
  kind: EngineKind,
): Record<string, unknown> {
  return {
    Memory: memoryBytes,
    MemorySwap: memoryBytes,
    NanoCpus: Math.round(l.cpus * 1e9),
    PidsLimit: l.pids,
    CapDrop: ['ALL'],
    SecurityOpt: ['no-new-privileges'],
    LogConfig: logConfig(kind),
  };
}
