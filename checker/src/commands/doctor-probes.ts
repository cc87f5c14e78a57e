import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { resolveImages, type SandboxImages } from '../engine';
import { abstractSocketScopeAvailable } from '../sandbox/abstract-sockets';
import { planContainment } from '../sandbox/containment';

export interface Finding {
  name: string;
  ok: boolean;
  /** What was found, or what is missing. */
  detail: string;
  /** What to do about it (only when not ok). */
  fix?: string;
}

const MIN_NODE = [20, 19] as const;

/** Whether a process-runtime run is contained here (what `grade` and the cohort workers need), and why not. */
export function probeContainment(): Finding {
  const name = 'Process runtime';
  if (process.getuid?.() !== 0)
    return {
      name,
      ok: false,
      detail: 'runs a workspace as you, not contained (right for your own workspace)',
      fix: 'to grade other people’s code, run as root on a grading machine, or use --runtime container',
    };
  try {
    const plan = planContainment('/');
    if (!plan.contained)
      return {
        name,
        ok: false,
        detail: `not contained: ${plan.reason}`,
        fix: 'a contained run needs cgroups (pids, memory) and iptables with the owner match (docs/grader.md)',
      };
    return {
      name,
      ok: true,
      detail: `contained: a uid of its own per run, cgroups, a network fence, a root of its own${
        abstractSocketScopeAvailable()
          ? ', abstract unix sockets scoped (Landlock)'
          : '; the app can reach the machine’s abstract unix sockets (no Landlock scopes in this kernel)'
      }`,
    };
  } catch (e) {
    return {
      name,
      ok: false,
      detail: (e as Error).message,
      fix: 'install util-linux and coreutils (unshare, setpriv, chroot), or use --runtime container',
    };
  }
}

export function probeNode(): Finding {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  const ok = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
  return {
    name: 'Node.js',
    ok,
    detail: process.versions.node,
    ...(ok ? {} : { fix: `install Node.js ${MIN_NODE.join('.')} or newer` }),
  };
}

export async function probeNpm(): Promise<Finding> {
  const version = await run('npm', ['--version']);
  return version
    ? { name: 'npm', ok: true, detail: version }
    : { name: 'npm', ok: false, detail: 'not found', fix: 'install npm (it ships with Node.js)' };
}

/** Postgres: a given URL, or the server binaries the local mode starts private clusters from. */
export function probePostgres(databaseUrl: string | undefined): Finding {
  if (databaseUrl) return { name: 'Postgres', ok: true, detail: `using ${redactUrl(databaseUrl)}` };
  const dirs = [...pathDirs(), ...postgresLibDirs()];
  const missing = ['initdb', 'pg_ctl', 'postgres'].filter(
    (bin) => !dirs.some((d) => existsSync(path.join(d, bin))),
  );
  if (missing.length === 0)
    return {
      name: 'Postgres',
      ok: true,
      detail: `binaries in ${dirs.find((d) => existsSync(path.join(d, 'initdb')))}`,
    };
  return {
    name: 'Postgres',
    ok: false,
    detail: `missing ${missing.join(', ')}`,
    fix: 'install the Postgres server (e.g. `apt-get install postgresql`), or pass --database-url, or use a container engine',
  };
}

export function probeRedis(redisUrl: string | undefined): Finding {
  if (redisUrl) return { name: 'Redis', ok: true, detail: `using ${redactUrl(redisUrl)}` };
  const dir = pathDirs().find((d) => existsSync(path.join(d, 'redis-server')));
  return dir
    ? { name: 'Redis', ok: true, detail: `redis-server in ${dir}` }
    : {
        name: 'Redis',
        ok: false,
        detail: 'redis-server not found',
        fix: 'install Redis (e.g. `apt-get install redis-server`), or pass --redis-url, or use a container engine',
      };
}

/** A Docker-API engine: DOCKER_HOST, the Docker socket, or a Podman socket, that answers /_ping. */
export async function probeContainerEngine(): Promise<{ finding: Finding; socket?: string }> {
  const candidates = engineSockets();
  for (const socket of candidates) {
    if (await get(socket, '/_ping'))
      return {
        finding: { name: 'Container engine', ok: true, detail: `answering at ${socket}` },
        socket,
      };
  }
  return {
    finding: {
      name: 'Container engine',
      ok: false,
      detail: candidates.length
        ? `no answer from ${candidates.join(', ')}`
        : 'no DOCKER_HOST, no Docker or Podman socket',
      fix: 'optional for local checks; for containers mode start Docker, or `podman system service --time=0 unix:///run/podman/podman.sock` and set DOCKER_HOST',
    },
  };
}

/** The images container mode needs (resolveImages: env overrides, docker/images/build.sh, or the official ones), as the engine lists them. */
export async function probeImages(socket: string): Promise<Finding> {
  const body = await get(socket, '/images/json');
  const tags = new Set(
    body
      ? (JSON.parse(body) as { RepoTags?: string[] | null }[]).flatMap((i) => i.RepoTags ?? [])
      : [],
  );
  let wanted: SandboxImages;
  try {
    wanted = resolveImages();
  } catch (e) {
    return {
      name: 'Images',
      ok: false,
      detail: (e as Error).message,
      fix: 'run docker/images/build.sh (builds them offline from Debian packages)',
    };
  }
  const has = (image: string): boolean =>
    tags.has(image) || tags.has(image.includes('/') ? image : `docker.io/library/${image}`);
  const roles = [
    ['postgres', wanted.postgres],
    ['redis', wanted.redis],
    ['app runner', wanted.node],
  ] as const;
  const missing = roles.filter(([, image]) => !has(image));
  const detail = roles
    .map(([role, image]) => `${role} ${image} ${has(image) ? 'present' : 'missing'}`)
    .join(', ');
  if (!missing.length) return { name: 'Images', ok: true, detail };
  const fix = missing.every(([, i]) => i.startsWith('localhost/'))
    ? 'run docker/images/build.sh (rebuilds what is missing, offline)'
    : `run docker/images/build.sh to build them offline, or pull them: ${missing.map(([, i]) => `docker pull ${i}`).join('; ')}`;
  return { name: 'Images', ok: false, detail, fix };
}

function engineSockets(): string[] {
  const host = process.env['DOCKER_HOST'];
  const fromEnv = host?.startsWith('unix://') ? [host.slice('unix://'.length)] : [];
  const runtimeDir = process.env['XDG_RUNTIME_DIR'];
  const known = [
    '/var/run/docker.sock',
    '/run/podman/podman.sock',
    ...(runtimeDir ? [path.join(runtimeDir, 'podman/podman.sock')] : []),
  ];
  return [...new Set([...fromEnv, ...known.filter((s) => existsSync(s))])];
}

function get(socketPath: string, urlPath: string): Promise<string | null> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: urlPath, timeout: 1500 }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (data += chunk));
      res.on('end', () => resolve(res.statusCode === 200 ? data : null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}

function run(cmd: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 10_000 }, (err, stdout) => resolve(err ? null : stdout.trim()));
  });
}

function pathDirs(): string[] {
  return (process.env['PATH'] ?? '').split(path.delimiter).filter(Boolean);
}

function postgresLibDirs(): string[] {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => path.join(root, v, 'bin'));
}

function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
