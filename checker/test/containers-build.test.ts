import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SetupError } from '../src/app/setup-error';
import {
  buildWorkspaceImage,
  containerLimits,
  countOwnedBy,
  ENGINE_SETUP_HINT,
  findEngine,
  holdImage,
  pruneImageCache,
  resolveImages,
  sandboxFirewallRules,
  sweepFirewallRules,
  useEngine,
  WORKSPACE_IMAGE_REPO,
} from '../src/engine';
import { sweepBuildContexts } from '../src/engine/build/context';
import { engine } from '../src/engine/client';
import { createNetwork } from '../src/engine/network';
import { privateNeighbour, type PrivateNeighbour } from './support/private-neighbour';

// The image build of `--runtime container` as a hostile learner writes it: one shared workspace
// (its dependency image is built once), variants by marker files. See docker/README.md "The image build".
jest.setTimeout(300_000);

const FIXTURE = path.join(__dirname, 'fixtures', 'hostile-build');
const NONE = { containers: 0, networks: 0, volumes: 0 };
let tmp = '';
const built: string[] = [];

/** A copy of the fixture, plus the attacks that need this machine's paths. */
function workspace(name: string, marker?: 'hang' | 'fail' | 'fork-bomb' | 'fill-disk'): string {
  const dir = path.join(tmp, name);
  fs.cpSync(FIXTURE, dir, { recursive: true });
  if (marker) fs.writeFileSync(path.join(dir, marker), '');
  return dir;
}

interface BuildTestOptions {
  timeoutMs?: number;
  diskBytes?: number;
  signal?: AbortSignal;
}

async function build(dir: string, opts: BuildTestOptions = {}) {
  const limits = {
    ...containerLimits(),
    ...(opts.timeoutMs ? { buildTimeoutMs: opts.timeoutMs } : {}),
    ...(opts.diskBytes ? { buildDiskBytes: opts.diskBytes } : {}),
  };
  const image = await buildWorkspaceImage(dir, {
    images: resolveImages(),
    limits,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  built.push(image);
  return image;
}

async function buildError(dir: string, opts: BuildTestOptions = {}): Promise<SetupError> {
  const e: unknown = await build(dir, opts).then(
    () => new Error('the build succeeded'),
    (err: unknown) => err,
  );
  if (!(e instanceof SetupError)) throw e;
  return e;
}

/** The engine's log frames (8-byte header: stream, 0, 0, 0, size) to text. */
function demux(raw: Buffer): string {
  let text = '';
  for (let at = 0; at + 8 <= raw.length;) {
    const size = raw.readUInt32BE(at + 4);
    text += raw.subarray(at + 8, at + 8 + size).toString('utf8');
    at += 8 + size;
  }
  return text;
}

/** Runs `cmd` in a throwaway container of `image` (no network) and returns its output. */
async function runIn(image: string, cmd: string): Promise<string> {
  const docker = await engine();
  const c = await docker.createContainer({
    Image: image,
    Entrypoint: ['/bin/sh', '-c', cmd],
    User: '10001:10001',
    HostConfig: { NetworkMode: 'none' },
  });
  try {
    await c.start();
    await c.wait();
    return demux(await c.logs({ stdout: true, stderr: true }));
  } finally {
    await c.remove({ force: true });
  }
}

/** From a container of the node image on `network`: what a TCP connect to each target gave. */
async function reachFrom(network: string, targets: string[], port: number): Promise<string[]> {
  const script = `const net = require('net');
Promise.all(${JSON.stringify(targets)}.map((host) => new Promise((resolve) => {
  const s = net.connect({ host, port: ${port}, timeout: 3000 });
  s.once('connect', () => (s.destroy(), resolve('open')));
  s.once('timeout', () => (s.destroy(), resolve('timeout')));
  s.once('error', (e) => resolve(e.code || 'error'));
}))).then((r) => console.log(JSON.stringify(r)));`;
  const docker = await engine();
  const c = await docker.createContainer({
    Image: resolveImages().node,
    Entrypoint: ['node', '-e', script],
    User: '10001:10001',
    Labels: { 'backend-sandbox': 'true' },
    HostConfig: { NetworkMode: network },
  });
  try {
    await c.start();
    await c.wait();
    return JSON.parse(demux(await c.logs({ stdout: true, stderr: true })).trim()) as string[];
  } finally {
    await c.remove({ force: true });
  }
}

const hostProcesses = (marker: string): string[] =>
  execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(marker) && !l.includes('ps -eo'));

async function listener(): Promise<{ port: number; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const server = net.createServer((s) => {
    hits++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen({ host: '0.0.0.0', port: 0 }, r));
  return {
    port: (server.address() as net.AddressInfo).port,
    hits: () => hits,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

const hostAddresses = (): string[] =>
  Object.values(os.networkInterfaces())
    .flat()
    .filter((i) => i && i.family === 'IPv4')
    .map((i) => i!.address);

describe('container runtime: a hostile image build is contained', () => {
  let trap: Awaited<ReturnType<typeof listener>>;
  let image: string;
  let secret: string;

  beforeAll(async () => {
    // Under CI and locally alike, no engine is a failure that says how to get one (never a silent skip).
    if (!(await findEngine())) throw new Error(ENGINE_SETUP_HINT);
    await useEngine();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hostile-build-'));
    trap = await listener();
    // A root-only file next to the workspace, and every way a workspace can point at it.
    secret = path.join(tmp, 'secret.json');
    fs.writeFileSync(secret, '{ "compilerOptions": {}, "ROOT-ONLY-SECRET": true }\n', {
      mode: 0o600,
    });
    const dir = workspace('main');
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), '{ "extends": "../secret.json" }\n');
    fs.symlinkSync('../secret.json', path.join(dir, 'relative-link.json'));
    fs.symlinkSync(secret, path.join(dir, 'absolute-link.json'));
    fs.symlinkSync('..', path.join(dir, 'parent'));
    fs.symlinkSync('build.js', path.join(dir, 'inside-link.js'));
    const targets = [
      ...['10.88.0.1', '127.0.0.1', ...hostAddresses()].flatMap((host) =>
        [5432, 6379, trap.port].map((port) => ({ host, port })),
      ),
      { host: '104.16.0.35', port: 443 }, // the npm registry, by address: no egress either
    ];
    fs.writeFileSync(path.join(dir, 'targets.json'), JSON.stringify(targets));
    image = await build(dir);
  });

  afterAll(async () => {
    trap?.close();
    const docker = await engine();
    for (const i of built)
      await docker
        .getImage(i)
        .remove()
        .catch(() => undefined);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    // Nothing of this process's builds is left: containers, networks, firewall rules.
    expect(await countOwnedBy(process.pid)).toEqual(NONE);
    expect(sandboxFirewallRules(process.pid)).toEqual([]);
  });

  it('runs the lifecycle scripts and the build with no network: the host and its Postgres/Redis are out of reach', async () => {
    const report = JSON.parse(await runIn(image, 'cat /app/dist/report.json')) as {
      reached: Record<string, string>;
    };
    expect(Object.keys(report.reached).length).toBeGreaterThan(6);
    expect(Object.entries(report.reached).filter(([, r]) => r === 'open')).toEqual([]);
    expect(trap.hits()).toBe(0);
    // Each lifecycle script once, as uid 10001.
    expect(await runIn(image, 'cat /app/dist/lifecycle.log; id -u')).toBe(
      'postinstall\nbuild\n10001\n',
    );
  });

  it('copies nothing from outside the workspace: no extends, no link out, into the build or the image', async () => {
    const report = JSON.parse(await runIn(image, 'cat /app/dist/report.json')) as {
      secrets: string[];
    };
    expect(report.secrets).toEqual([]);
    expect(await runIn(image, 'grep -rl ROOT-ONLY-SECRET /app || echo none')).toBe('none\n');
    const links = await runIn(
      image,
      'cd /app && ls -1 *link* parent 2>&1; readlink inside-link.js',
    );
    expect(links).toContain('inside-link.js');
    expect(links).not.toContain('relative-link.json\n');
    expect(links).not.toContain('absolute-link.json\n');
    expect(links).toMatch(/'parent': No such file/);
    expect(links).toContain('build.js');
  });

  it('leaves no process of the build running once the build is over', () => {
    expect(hostProcesses('hostile-build-background')).toEqual([]);
  });

  it('fails with the build’s own output in the message when the build fails', async () => {
    const e = await buildError(workspace('fails', 'fail'));
    expect(e.code).toBe('BUILD_FAILED');
    expect(e.message).toContain('exit code 3');
    expect(e.logs).toContain('HOSTILE-BUILD-OUTPUT: the build explains why it fails');
  });

  it('stops a hanging build at the time limit and removes its container', async () => {
    const started = Date.now();
    const e = await buildError(workspace('hangs', 'hang'), { timeoutMs: 8_000 });
    expect(e.code).toBe('BUILD_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(await countOwnedBy(process.pid)).toEqual(NONE);
    expect(hostProcesses('hostile-build-background')).toEqual([]);
  });

  it('holds a fork bomb in the build at the pids limit, stops it at the time limit, and leaves no process', async () => {
    const limit = containerLimits().pids;
    const sleepers = (): number => hostProcesses('0.0424242').length;
    let most = 0;
    const counting = setInterval(() => (most = Math.max(most, sleepers())), 250);
    try {
      const e = await buildError(workspace('fork-bomb', 'fork-bomb'), { timeoutMs: 30_000 });
      expect(e.code).toBe('BUILD_TIMEOUT');
    } finally {
      clearInterval(counting);
    }
    expect(most).toBeGreaterThan(limit / 2); // it did fork, up to the limit...
    expect(most).toBeLessThanOrEqual(limit); // ...and no further
    expect(sleepers()).toBe(0);
    expect(await countOwnedBy(process.pid)).toEqual(NONE);
  });

  it('stops a build that writes without end once its layer holds more than the disk limit, and removes its container', async () => {
    const started = Date.now();
    const e = await buildError(workspace('fill-disk', 'fill-disk'), {
      diskBytes: 512 * 1024 * 1024,
    });
    expect(e.code).toBe('BUILD_DISK_LIMIT');
    expect(e.message).toContain('wrote more than 512 MB');
    expect(Date.now() - started).toBeLessThan(120_000);
    expect(await countOwnedBy(process.pid)).toEqual(NONE);
  });

  it('stops a build when the run is interrupted (Ctrl-C, --timeout) and removes its container', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 4_000);
    const e = await buildError(workspace('interrupted', 'hang'), { signal: controller.signal });
    expect(e.code).toBe('ABORTED');
    expect(await countOwnedBy(process.pid)).toEqual(NONE);
    expect(hostProcesses('hostile-build-background')).toEqual([]);
  });

  it('fetches dependencies with npm alone: a dependency URL on this machine is refused', async () => {
    const dir = workspace('evil-dependency');
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    const host = hostAddresses().find((a) => a !== '127.0.0.1') ?? '10.88.0.1';
    pkg.dependencies = { evil: `http://${host}:${trap.port}/evil.tgz` };
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg));
    const e = await buildError(dir);
    expect(e.code).toBe('BUILD_FAILED');
    expect(e.message).toContain('npm could not install your dependencies');
    expect(trap.hits()).toBe(0);
  });

  describe('beside other hosts on private and link-local addresses', () => {
    let neighbour: PrivateNeighbour;
    beforeAll(async () => {
      neighbour = await privateNeighbour();
    });
    afterAll(() => neighbour?.remove());

    it('the dependency stage’s network reaches none of them (169.254.169.254, 10/8, 172.16/12, 192.168/16), though it routes to them', async () => {
      const docker = await engine();
      const network = await createNetwork(
        docker,
        `sandbox-test-${randomBytes(3).toString('hex')}`,
        'test-private',
        { internal: false },
      );
      try {
        // Without the fence the route is there: this is what the fence has to stop.
        expect(await reachFrom(network.name, neighbour.addresses, neighbour.port)).toEqual(
          neighbour.addresses.map(() => 'open'),
        );
        const before = await neighbour.hits();
        network.firewall([]);
        const fenced = await reachFrom(network.name, neighbour.addresses, neighbour.port);
        expect(fenced.filter((r) => r === 'open')).toEqual([]);
        expect(await neighbour.hits()).toEqual(before);
      } finally {
        await network.remove();
      }
      expect(sandboxFirewallRules(process.pid)).toEqual([]);
    });

    it('a dependency URL at 169.254.169.254 (a cloud’s metadata service) is refused; nothing reaches it', async () => {
      const dir = workspace('metadata-dependency');
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as Record<
        string,
        unknown
      >;
      pkg.dependencies = { evil: `http://169.254.169.254:${neighbour.port}/latest/meta-data.tgz` };
      fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg));
      const before = await neighbour.hits();
      const e = await buildError(dir);
      expect(e.code).toBe('BUILD_FAILED');
      expect(e.message).toContain('npm could not install your dependencies');
      expect(await neighbour.hits()).toEqual(before);
    });
  });

  it('removes the build context of a checker that died in the middle of a build', () => {
    const left = fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-build-999999-1-'));
    expect(sweepBuildContexts()).toBeGreaterThanOrEqual(1);
    expect(fs.existsSync(left)).toBe(false);
  });

  it('removes the firewall rules (INPUT and FORWARD) of a checker that died', () => {
    const dead = `999999-1`; // no such process
    execFileSync('iptables', [
      '-w',
      '5',
      '-I',
      'INPUT',
      '-s',
      '10.254.254.0/24',
      '-m',
      'comment',
      '--comment',
      `backend-sandbox:${dead}`,
      '-j',
      'REJECT',
    ]);
    execFileSync('iptables', [
      ...['-w', '5', '-I', 'FORWARD', '-s', '10.254.254.0/24', '-d', '169.254.0.0/16'],
      ...['-m', 'comment', '--comment', `backend-sandbox:${dead}`, '-j', 'REJECT'],
    ]);
    expect(sandboxFirewallRules(999999)).toHaveLength(2); // INPUT (this machine), FORWARD (its neighbours)
    sweepFirewallRules();
    expect(sandboxFirewallRules(999999)).toEqual([]);
  });

  it('keeps at most SANDBOX_IMAGE_CACHE workspace images, removing the oldest', async () => {
    const saved = process.env.SANDBOX_IMAGE_CACHE;
    process.env.SANDBOX_IMAGE_CACHE = '1';
    try {
      const dir = workspace('cache-variant');
      fs.writeFileSync(path.join(dir, 'variant.txt'), randomBytes(8).toString('hex'));
      const next = await build(dir);
      const docker = await engine();
      const exists = (i: string): Promise<boolean> =>
        docker
          .getImage(i)
          .inspect()
          .then(
            () => true,
            () => false,
          );
      expect(next).not.toBe(image);
      expect(await exists(next)).toBe(true);
      expect(await exists(image)).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.SANDBOX_IMAGE_CACHE;
      else process.env.SANDBOX_IMAGE_CACHE = saved;
    }
  });

  it('never prunes an image a concurrent run holds (the prune skips it; released, it goes)', async () => {
    const docker = await engine();
    // An image of its own (a workspace image's tag is its only one), made from the redis image.
    const base = await docker.createContainer({
      Image: resolveImages().redis,
      Entrypoint: ['/bin/true'],
      Labels: { 'backend-sandbox': 'true' },
    });
    const tag = `hold-test-${randomBytes(4).toString('hex')}`;
    await base.commit({ repo: WORKSPACE_IMAGE_REPO, tag, changes: `LABEL hold-test=${tag}` });
    await base.remove({ force: true });
    const held = `${WORKSPACE_IMAGE_REPO}:${tag}`;
    const exists = (): Promise<boolean> =>
      docker
        .getImage(held)
        .inspect()
        .then(
          () => true,
          () => false,
        );
    const hold = await holdImage(docker, held, `hold-test-${tag}`);
    expect(hold).toBeDefined();
    expect(await pruneImageCache(docker, { workspace: 0, deps: 3 })).not.toContain(held);
    expect(await exists()).toBe(true);
    await hold?.release();
    expect(await pruneImageCache(docker, { workspace: 0, deps: 3 })).toContain(held);
    expect(await exists()).toBe(false);
    expect(await holdImage(docker, held, `hold-test-${tag}`)).toBeUndefined();
  });
});
