import fs from 'node:fs';
import http from 'node:http';
import type Dockerode from 'dockerode';
import { getContainerRuntimeClient } from 'testcontainers';

/** Where setup-podman.sh puts the Docker-compatible API, and Docker's own default socket. */
const KNOWN_SOCKETS = ['/run/podman/podman.sock', '/var/run/docker.sock'];

function ping(options: http.RequestOptions, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ ...options, path: '/_ping', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/**
 * Finds a container engine that answers (DOCKER_HOST first, then the known sockets) and returns the
 * DOCKER_HOST to use, or undefined. Never throws. An absent or dead engine fails at once (no socket,
 * refused); the timeout only waits on one that accepted the connection: podman's service took over
 * 1.5 s to answer /_ping at load 13, and a cohort worker's grading then failed as NO_ENGINE (retried).
 */
export async function findEngine(
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs = 10_000,
): Promise<string | undefined> {
  const configured = env.DOCKER_HOST;
  if (configured) {
    if (configured.startsWith('unix://')) {
      const socketPath = configured.slice('unix://'.length);
      return (await ping({ socketPath }, timeoutMs)) ? configured : undefined;
    }
    if (configured.startsWith('tcp://')) {
      const url = new URL(configured.replace('tcp://', 'http://'));
      return (await ping({ host: url.hostname, port: url.port }, timeoutMs))
        ? configured
        : undefined;
    }
    return undefined;
  }
  for (const socketPath of KNOWN_SOCKETS) {
    if (fs.existsSync(socketPath) && (await ping({ socketPath }, timeoutMs)))
      return `unix://${socketPath}`;
  }
  return undefined;
}

export const ENGINE_SETUP_HINT =
  'No container engine answers. On Debian/Ubuntu run `sudo docker/engine/setup-podman.sh` then ' +
  '`docker/images/build.sh` and `export DOCKER_HOST=unix:///run/podman/podman.sock`; ' +
  'or start Docker; or grade with `--services local`.';

/**
 * Points Testcontainers at the engine. Ryuk (the reaper) needs a registry pull, so it is off
 * unless the user turned it on: what the sandbox creates is removed by label instead (sweep.ts).
 */
export async function useEngine(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const dockerHost = await findEngine(env);
  if (!dockerHost) throw new Error(ENGINE_SETUP_HINT);
  env.DOCKER_HOST = dockerHost;
  env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  return dockerHost;
}

/** The engine's API client (call useEngine first). */
export async function engine(): Promise<Dockerode> {
  return (await getContainerRuntimeClient()).container.dockerode;
}
