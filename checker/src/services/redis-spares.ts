import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { ownerTag, processStart, type Owner } from '../sandbox/owner';
import { findRedisServer } from './binaries';
import { runsDir } from './local-postgres';
import { redisArgs, type PrivateRedis } from './local-redis';
import { freePort } from './ports';

/**
 * Spare redis-servers kept ready beside the warm Postgres (warm-postgres.ts), as its spare clones
 * are: a run takes one by renaming its run dir to a name of its own (atomic: one taker wins)
 * instead of waiting for a server to start. Who owns a run dir is in its name (sandbox/owner.ts),
 * and sweepOrphanRuns() ends the server of a dead owner:
 * - `redismaking-PID-START-x`: being started by that checker;
 * - `redisspare-PID-START-x`: ready, kept by the warm Postgres server (its pid and start time), so
 *   `services down` or its death ends the spares;
 * - `redis-PID-START-x`: taken by that checker's run, ended when the run ends.
 * A spare is taken only while no client has ever connected to it and it holds no key.
 */
export const REDIS_SPARES = 2;

const READY_TIMEOUT_MS = 10_000;

interface SpareServer {
  readonly pid: number;
  readonly start: number;
  readonly port: number;
}

const sparePrefix = (keeper: Owner): string => `redisspare-${ownerTag(keeper)}-`;
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Takes one of `keeper`'s spares for this run; undefined when none is left (or none was fit). */
export async function claimSpareRedis(keeper: Owner): Promise<PrivateRedis | undefined> {
  const prefix = sparePrefix(keeper);
  const spares = (await readdir(runsDir()).catch(() => [] as string[])).filter((n) =>
    n.startsWith(prefix),
  );
  for (const spare of spares.sort(() => Math.random() - 0.5)) {
    const own = path.join(runsDir(), `redis-${ownerTag()}-${randomBytes(4).toString('hex')}`);
    try {
      await rename(path.join(runsDir(), spare), own);
    } catch {
      continue; // another run took it
    }
    const redis = await adopt(own);
    if (redis) return redis;
  }
  return undefined;
}

/** The taken spare as this run's server, after checking it is the server made and untouched; else ends it. */
async function adopt(dir: string): Promise<PrivateRedis | undefined> {
  const server = await readFile(path.join(dir, 'spare.json'), 'utf8')
    .then((s) => JSON.parse(s) as SpareServer)
    .catch(() => undefined);
  const fit =
    server !== undefined &&
    processStart(server.pid) === server.start &&
    (await untouched(server.port).catch(() => false));
  if (!fit) {
    if (server) await endServer(server);
    await rm(dir, { recursive: true, force: true });
    return undefined;
  }
  return {
    url: `redis://127.0.0.1:${server.port}`,
    port: server.port,
    stop: async () => {
      await endServer(server);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** This probe is the server's first client ever, and it holds no key (INFO: stats and keyspace). */
function untouched(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    socket.setTimeout(2000, () => {
      socket.destroy();
      reject(new Error('the spare redis-server did not answer'));
    });
    socket.once('error', reject);
    socket.once('connect', () => socket.write('INFO\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      const header = /^\$(\d+)\r\n/.exec(reply);
      if (!header) {
        if (reply.includes('\r\n')) finish(false); // an error reply, not INFO's bulk string
        return;
      }
      if (Buffer.byteLength(reply, 'latin1') < header[0].length + Number(header[1])) return;
      const connections = /^total_connections_received:(\d+)\r?$/m.exec(reply)?.[1];
      finish(connections === '1' && !/^db\d+:/m.test(reply));
    });
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
  });
}

/** SIGKILLs the server (only if that pid is still the server started then) and waits until it is gone. */
async function endServer(server: SpareServer): Promise<void> {
  if (processStart(server.pid) !== server.start) return;
  try {
    process.kill(server.pid, 'SIGKILL');
  } catch {
    return;
  }
  for (let i = 0; i < 400 && processStart(server.pid) === server.start; i++) await pause(5);
}

/** Starts spares for `keeper` until it has `count` (those being started count too); best effort. */
export async function refillSpareRedis(keeper: Owner, count = REDIS_SPARES): Promise<void> {
  const bin = findRedisServer();
  if (!bin) return;
  await mkdir(runsDir(), { recursive: true, mode: 0o755 });
  const names = await readdir(runsDir());
  const have = names.filter(
    (n) => n.startsWith(sparePrefix(keeper)) || n.startsWith('redismaking-'),
  ).length;
  await Promise.all(
    Array.from({ length: Math.max(0, count - have) }, () => makeSpare(keeper, bin)),
  );
}

/** One spare: started under this checker's name, handed to `keeper` once it listens. */
async function makeSpare(keeper: Owner, bin: string): Promise<void> {
  const id = randomBytes(4).toString('hex');
  const making = path.join(runsDir(), `redismaking-${ownerTag()}-${id}`);
  await mkdir(making, { mode: 0o700 });
  let server: SpareServer | undefined;
  try {
    const port = await freePort();
    // Detached, no pipes: the server outlives this checker (the next run takes it).
    const child = spawn(bin, redisArgs(port, making), { detached: true, stdio: 'ignore' });
    child.on('error', () => undefined);
    child.unref();
    const pid = child.pid;
    const start = pid ? processStart(pid) : undefined;
    if (!pid || !start) throw new Error('redis-server could not be started');
    server = { pid, start, port };
    // redis-server writes its pid file once it listens.
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!(await stat(path.join(making, 'redis.pid')).catch(() => undefined))) {
      if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline)
        throw new Error('the spare redis-server did not start');
      await pause(5);
    }
    await writeFile(path.join(making, 'spare.json'), JSON.stringify(server));
    await rename(making, path.join(runsDir(), `${sparePrefix(keeper)}${id}`));
  } catch (e) {
    if (server) await endServer(server);
    await rm(making, { recursive: true, force: true });
    throw e;
  }
}
