import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import {
  countLabelled,
  ENGINE_SETUP_HINT,
  findEngine,
  prepareContainerRuntime,
  sandboxFirewallRules,
  type ContainerApp,
  type ContainerRuntime,
} from '../src/engine';

jest.setTimeout(180_000);

const HOSTILE = path.join(__dirname, 'fixtures', 'hostile-app');

async function getJson(app: ContainerApp, pathAndQuery: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${app.url}${pathAndQuery}`, { signal: AbortSignal.timeout(10_000) });
  return (await res.json()) as Record<string, unknown>;
}

/** A TCP server on every host interface: stands for the run's services (relayed) and for anything else (not). */
async function hostServer(): Promise<{ port: number; close(): Promise<void> }> {
  const server = net.createServer((s) => s.end('hello\n'));
  await new Promise<void>((resolve) => server.listen({ host: '0.0.0.0', port: 0 }, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe('container runtime: a hostile submission is contained', () => {
  let runtime: ContainerRuntime;
  let service: Awaited<ReturnType<typeof hostServer>>;
  let other: Awaited<ReturnType<typeof hostServer>>;

  beforeAll(async () => {
    // Under CI and locally alike, no engine is a failure that says how to get one (never a silent skip).
    if (!(await findEngine())) throw new Error(ENGINE_SETUP_HINT);
    service = await hostServer();
    other = await hostServer();
    runtime = await prepareContainerRuntime({
      workspace: HOSTILE,
      env: {
        DATABASE_URL: `postgres://u:p@127.0.0.1:${service.port}/db`,
        PUBLIC_URL: 'http://localhost:3000',
      },
    });
  });

  afterAll(async () => {
    const runId = runtime?.runId;
    await runtime?.dispose();
    await service?.close();
    await other?.close();
    if (runId)
      expect(await countLabelled(runId)).toEqual({ containers: 0, networks: 0, volumes: 0 });
    expect(sandboxFirewallRules(process.pid)).toEqual([]);
  });

  it('fences the host from the run network while the run lasts', () => {
    expect(sandboxFirewallRules(process.pid).length).toBeGreaterThan(0);
  });

  it('runs the app as a non-root user and reaches the run services only through the relays', async () => {
    const app = runtime.createApp();
    await app.start();
    expect(await getJson(app, '/health')).toEqual({ status: 'ok', uid: 10001 });
    const dbUrl = new URL(runtime.env.DATABASE_URL!);
    expect(dbUrl.hostname).not.toBe('127.0.0.1');
    expect(await getJson(app, `/connect?host=${dbUrl.hostname}&port=${dbUrl.port}`)).toEqual({
      result: 'open',
    });
    // Another host service on the same gateway, not relayed: refused by the firewall.
    expect(
      (await getJson(app, `/connect?host=${dbUrl.hostname}&port=${other.port}`)).result,
    ).not.toBe('open');
    // No egress.
    expect((await getJson(app, '/connect?host=1.1.1.1&port=80')).result).not.toBe('open');
    expect((await getJson(app, '/connect?host=151.101.0.223&port=443')).result).not.toBe('open');
    await app.remove();
  });

  it('restarts an app at the same address (its URL stays valid for the clients that hold it)', async () => {
    const app = runtime.createApp();
    await app.start();
    const url = app.url;
    await app.kill();
    await app.start();
    expect(app.url).toBe(url);
    expect(await getJson(app, '/health')).toEqual({ status: 'ok', uid: 10001 });
    await app.remove();
  });

  it("sees no process but its own: nothing of the machine's or another run's to read an environment from or signal", async () => {
    const other = runtime.createApp();
    const app = runtime.createApp();
    await other.start();
    await app.start();
    const { procs, self } = (await getJson(app, '/procs')) as unknown as {
      procs: { pid: number; cmdline: string; environ: string }[];
      self: number;
    };
    // Its own node (pid 1: the start script execs it) and whatever it started; never the other instance's.
    expect(procs.map((p) => p.pid)).toContain(self);
    expect(procs.every((p) => /^(node server\.js|\/bin\/sh|ENOENT|ESRCH)/.test(p.cmdline))).toBe(
      true,
    );
    expect(procs.length).toBeLessThanOrEqual(2);
    await other.remove();
    await app.remove();
  });

  it('reaches no abstract unix socket of the machine and reads no file of the course', async () => {
    // Abstract sockets have no file and no permission check: only a network namespace fences them.
    const name = `backend-sandbox-test-${randomBytes(4).toString('hex')}`;
    let connections = 0;
    const server = net.createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((resolve) => server.listen({ path: `\0${name}` }, resolve));
    const app = runtime.createApp();
    try {
      await app.start();
      expect(await getJson(app, `/abstract?name=${name}`)).toEqual({ result: 'ECONNREFUSED' });
      expect(connections).toBe(0);
      const course = path.resolve(__dirname, '..', '..', 'reference-app', 'package.json');
      expect(await getJson(app, `/read?path=${encodeURIComponent(course)}`)).toEqual({
        result: 'ENOENT',
      });
    } finally {
      await app.remove();
      server.close();
    }
  });

  it('createAppWith(): an instance reaches its own services through relays of its own, closed by release()', async () => {
    const own = await hostServer();
    try {
      const rulesBefore = sandboxFirewallRules(process.pid).length;
      const { app, env, release } = await runtime.createAppWith({
        DATABASE_URL: `postgres://u:p@127.0.0.1:${own.port}/db`,
        VERIFY_TOKEN_TTL_SECONDS: '2',
      });
      expect(env.VERIFY_TOKEN_TTL_SECONDS).toBe('2');
      expect(env.PUBLIC_URL).toBe(runtime.env.PUBLIC_URL);
      const dbUrl = new URL(env.DATABASE_URL!);
      expect(dbUrl.hostname).toBe(new URL(runtime.env.DATABASE_URL!).hostname);
      expect(dbUrl.port).not.toBe(new URL(runtime.env.DATABASE_URL!).port);
      expect(sandboxFirewallRules(process.pid).length).toBe(rulesBefore + 1);
      await app.start();
      const connect = `/connect?host=${dbUrl.hostname}&port=${dbUrl.port}`;
      expect(await getJson(app, connect)).toEqual({ result: 'open' });
      await app.kill();
      await release();
      expect(sandboxFirewallRules(process.pid).length).toBe(rulesBefore);
      // The relay is gone, and the firewall no longer opens its port: a server there now is refused.
      const squatter = net.createServer((s) => s.end('hello\n'));
      await new Promise<void>((resolve) =>
        squatter.listen({ host: '0.0.0.0', port: Number(dbUrl.port) }, resolve),
      );
      try {
        const other = runtime.createApp();
        await other.start();
        expect((await getJson(other, connect)).result).not.toBe('open');
        await other.remove();
      } finally {
        squatter.close();
      }
      await app.remove();
    } finally {
      await own.close();
    }
  });

  it('refuses writes outside /tmp (read-only root filesystem, workspace included)', async () => {
    const app = runtime.createApp();
    await app.start();
    expect(await getJson(app, '/write')).toEqual({ app: 'EROFS', etc: 'EROFS', tmp: 'written' });
    await app.remove();
  });

  it('stops a process that ignores SIGTERM with a kill, quickly', async () => {
    const app = runtime.createApp();
    await app.start();
    app.signal('SIGTERM');
    expect(await app.waitForExit(1_000)).toBeNull();
    const started = Date.now();
    await app.kill();
    expect(app.running).toBe(false);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(app.logs.tail()).toContain('ignoring SIGTERM');
    await app.remove();
  });

  it('sees the app exit by itself at once, with its exit code', async () => {
    const app = runtime.createApp();
    await app.start();
    expect(await getJson(app, '/exit?code=3')).toEqual({ exiting: true });
    // Within a few seconds: the end of its output says when (podman's own wait polled a core away).
    expect(await app.waitForExit(5_000)).toEqual({ code: 3, signal: null });
    expect(app.running).toBe(false);
    await app.remove();
  });

  it('caps a fork bomb at the pids limit and still kills everything', async () => {
    const app = runtime.createApp();
    await app.start();
    await getJson(app, '/fork-bomb');
    await new Promise((r) => setTimeout(r, 3_000));
    const started = Date.now();
    await app.kill();
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(app.running).toBe(false);
    await app.remove();
  });

  it('OOM-kills a memory hog inside its own limit', async () => {
    const app = runtime.createApp();
    await app.start();
    await getJson(app, '/memory-hog');
    const exit = await app.waitForExit(30_000);
    expect(exit).not.toBeNull();
    expect(exit?.code === 137 || exit?.signal === 'SIGKILL').toBe(true);
    await app.remove();
  });

  it('keeps only the tail of an output flood, within the cap', async () => {
    const app = runtime.createApp();
    await app.start();
    await getJson(app, '/flood');
    await new Promise((r) => setTimeout(r, 3_000));
    const tail = app.logs.tail(1_000_000);
    expect(tail.length).toBeLessThanOrEqual(64 * 1024);
    expect(tail).toContain('xxxx');
    await app.remove();
  });
});
