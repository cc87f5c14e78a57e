import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { engine, ENGINE_SETUP_HINT, findEngine, resolveImages, useEngine } from '../../src/engine';
import { engineKind, engineKindOf, type VersionAnswer } from '../../src/engine/engine-kind';
import { runLabels } from '../../src/engine/labels';
import { containerLimits, hostLimits } from '../../src/engine/limits';

jest.setTimeout(60_000);

/** Docker Engine 27's `GET /version` answer, as its API reference shows it (details shortened). */
const DOCKER_VERSION: VersionAnswer = {
  Platform: { Name: 'Docker Engine - Community' },
  Components: [
    { Name: 'Engine' },
    { Name: 'containerd' },
    { Name: 'runc' },
    { Name: 'docker-init' },
  ],
};

/** Podman 4.3.1's answer on this machine's Docker-compatible socket (details shortened). */
const PODMAN_VERSION: VersionAnswer = {
  Platform: { Name: 'linux/amd64/debian-12' },
  Components: [{ Name: 'Podman Engine' }, { Name: 'Conmon' }, { Name: 'OCI Runtime (runc)' }],
};

/** GET on the engine's socket (Podman's own API shows its log driver; its Docker API says json-file). */
function getJson(path: string): Promise<Record<string, unknown>> {
  const socketPath = (process.env.DOCKER_HOST ?? '').replace('unix://', '');
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath, path }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(JSON.parse(body) as Record<string, unknown>));
      })
      .on('error', reject);
  });
}

describe('the engine kind and its log driver', () => {
  it("gives a Docker engine json-file capped by max-size and max-file (k8s-file is Podman's only)", () => {
    expect(engineKindOf(DOCKER_VERSION)).toBe('docker');
    expect(hostLimits(1, containerLimits({}), 'docker').LogConfig).toEqual({
      Type: 'json-file',
      Config: { 'max-size': '1m', 'max-file': '1' },
    });
  });

  it('gives Podman its own k8s-file driver capped by max-size', () => {
    expect(engineKindOf(PODMAN_VERSION)).toBe('podman');
    expect(hostLimits(1, containerLimits({}), 'podman').LogConfig).toEqual({
      Type: 'k8s-file',
      Config: { 'max-size': '1m' },
    });
  });

  it('takes an answer without components for Docker (the documented API)', () => {
    expect(engineKindOf({})).toBe('docker');
    expect(engineKindOf({ Components: null })).toBe('docker');
  });

  it("creates a learner container with the log driver of this machine's engine", async () => {
    if (!(await findEngine())) throw new Error(ENGINE_SETUP_HINT);
    await useEngine();
    const docker = await engine();
    const kind = await engineKind(docker);
    expect(kind).toBe(engineKindOf((await docker.version()) as VersionAnswer));
    const container = await docker.createContainer({
      Image: resolveImages().node,
      name: `sandbox-logprobe-${randomBytes(3).toString('hex')}`,
      Cmd: ['true'],
      Labels: runLabels(`logprobe-${process.pid}`),
      HostConfig: hostLimits(64 * 1024 * 1024, containerLimits({}), kind),
    });
    try {
      if (kind === 'podman') {
        const info = await getJson(`/v4.0.0/libpod/containers/${container.id}/json`);
        expect(info.HostConfig).toMatchObject({ LogConfig: { Type: 'k8s-file', Size: '1MB' } });
      } else {
        const info = await container.inspect();
        expect(info.HostConfig.LogConfig).toEqual({
          Type: 'json-file',
          Config: { 'max-size': '1m', 'max-file': '1' },
        });
      }
    } finally {
      await container.remove({ force: true });
    }
  });
});
