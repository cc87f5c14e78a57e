import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { grade } from '../checker/src/runner/grade';
import { loadPrepareRun } from '../checker/src/runner/prepare';
import type { PreparedRun } from '../checker/src/runner/run-types';
import { prepareRun } from '../checker/src/runner/session';
import { sweepContainedLeftovers } from '../checker/src/sandbox/containment';
import { dependencyCacheKey } from '../checker/src/sandbox/dependency-cache';
import { cacheDir } from '../checker/src/services/cache-dir';
import { readWorkspace } from '../checker/src/workspace/workspace';
import { fencedUids } from '../checker/src/sandbox/network-fence';
import { processesOf, RUN_UID_FIRST } from '../checker/src/sandbox/run-user';
import { privateNeighbour } from '../checker/test/support/private-neighbour';
import { REFERENCE, ROOT } from './support/grade-workspace';
import {
  courseFilesHash,
  HOSTILE_DIR,
  hostileWorkspace,
  leftovers,
  processesWith,
  removeWorkspace,
} from './support/hostile';

// The hostile-submission suite for the process runtime, as a grading host runs it (root).
// Each fixture in test/hostile/ is a submission written to attack the run; every attack must
// fail, and nothing of the run may be left behind.

interface Probe {
  pid: number;
  cwd: string;
  uid: number;
  gid: number;
  groups: number[];
  connect: string[];
  read: string[];
  list: (number | string)[];
  names: (string[] | string)[];
  write: string[];
  signal: string[];
}
type Target = { host: string; port: number } | { path: string };

async function probe(
  run: PreparedRun,
  q: {
    connect?: Target[];
    read?: string[];
    list?: string[];
    names?: string[];
    write?: { path: string; bytes: number }[];
    signal?: number[];
  },
): Promise<Probe> {
  const res = await fetch(
    `${run.context.app.url}/probe?q=${encodeURIComponent(JSON.stringify(q))}`,
  );
  return (await res.json()) as Probe;
}

const portOf = (url: string | undefined): number => Number(new URL(url ?? 'http://x:1').port);
const seenUids: number[] = [];

afterAll(() => {
  expect(leftovers(seenUids)).toEqual([]);
});

describe('two concurrent runs of a hostile probe app (process runtime, root)', () => {
  const dirs = [hostileWorkspace('probe'), hostileWorkspace('probe')];
  let a: PreparedRun;
  let b: PreparedRun;
  let selfA: Probe;
  let selfB: Probe;

  beforeAll(async () => {
    const [ra, rb] = await Promise.all(
      dirs.map((workspace) => prepareRun({ workspace, services: 'local' })),
    );
    if (!ra || !rb) throw new Error('two runs expected');
    [a, b] = [ra, rb];
    [selfA, selfB] = await Promise.all([probe(a, {}), probe(b, {})]);
    seenUids.push(selfA.uid, selfB.uid);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([a?.dispose(), b?.dispose()]);
    dirs.forEach(removeWorkspace);
  });

  it('each run is contained and runs as a uid of its own, with no root group', () => {
    expect(a.runtime).toEqual({
      kind: 'process',
      contained: true,
    });
    expect(selfA.uid).toBeGreaterThanOrEqual(RUN_UID_FIRST);
    expect(selfB.uid).toBeGreaterThanOrEqual(RUN_UID_FIRST);
    expect(selfA.uid).not.toBe(selfB.uid);
    expect(selfA.groups).not.toContain(0);
  });

  it('reaches its own Postgres and Redis proxies, and nothing else of the machine: not 5432, 6379, ::1, unix sockets', async () => {
    const r = await probe(a, {
      connect: [
        { host: '127.0.0.1', port: portOf(a.context.env.DATABASE_URL) },
        { host: '127.0.0.1', port: portOf(a.context.env.REDIS_URL) },
        { host: '127.0.0.1', port: 5432 },
        { host: '127.0.0.1', port: 6379 },
        { host: '::1', port: 6379 },
        { path: '/var/run/postgresql/.s.PGSQL.5432' },
        { path: '/run/podman/podman.sock' },
      ],
    });
    expect(r.connect.slice(0, 2)).toEqual(['connected', 'connected']);
    for (const outcome of r.connect.slice(2)) expect(outcome).not.toBe('connected');
  });

  it('cannot reach the other run: its proxies, its app; cannot read its environment or signal it', async () => {
    const r = await probe(a, {
      connect: [
        { host: '127.0.0.1', port: portOf(b.context.env.DATABASE_URL) },
        { host: '127.0.0.1', port: portOf(b.context.env.REDIS_URL) },
        { host: '127.0.0.1', port: portOf(b.context.env.PUBLIC_URL) },
      ],
      read: [`/proc/${selfB.pid}/environ`],
      signal: [selfB.pid],
    });
    expect(r.connect).toEqual([
      expect.not.stringMatching(/^connected$/),
      expect.not.stringMatching(/^connected$/),
      expect.not.stringMatching(/^connected$/),
    ]);
    expect(r.read).toEqual(['ENOENT']); // its /proc shows only its own processes
    expect(r.signal).toEqual(['EPERM']);
  });

  it('cannot read the course (checks, checker, the reference and its build), the checker’s caches or root’s files', async () => {
    const r = await probe(a, {
      read: [
        path.join(ROOT, 'steps', 'manifest.json'),
        path.join(ROOT, 'reference-app', 'dist', 'server.js'),
        path.join(ROOT, 'checker', 'src', 'harness', 'assert.ts'),
        '/etc/shadow',
      ],
      list: [path.join(ROOT, 'reference-app'), path.join(ROOT, 'test'), dirs[1]!],
    });
    expect(r.read).toEqual(['ENOENT', 'ENOENT', 'ENOENT', 'EACCES']);
    expect(r.list).toEqual(['ENOENT', 'ENOENT', 'ENOENT']);
  });

  it('sees none of the machine’s files but the system’s: not another checkout of the course, not a world-readable file, not other processes; a /tmp of its own', async () => {
    // Another checkout of the course, readable by everyone (a second grader's, a CI clone), and a
    // world-readable file beside this one, both made after the run started.
    const other = mkdtempSync(path.join(os.tmpdir(), 'other-course-'));
    cpSync(path.join(ROOT, 'steps', 'manifest.json'), path.join(other, 'steps', 'manifest.json'));
    chmodSync(other, 0o755);
    const beside = path.join(
      path.dirname(ROOT),
      `world-readable-${randomBytes(4).toString('hex')}`,
    );
    writeFileSync(beside, 'a secret beside the course', { mode: 0o644 });
    try {
      const r = await probe(a, {
        read: [
          path.join(other, 'steps', 'manifest.json'),
          beside,
          `/proc/${process.pid}/cmdline`,
          '/etc/hostname',
        ],
        names: [os.tmpdir(), '/', path.dirname(ROOT)],
      });
      expect(r.read).toEqual(['ENOENT', 'ENOENT', 'ENOENT', 'read']);
      // Its own root: the system's folders, and only the way down to what it is given.
      const given = (dir: string): string[] =>
        [ROOT, path.dirname(selfA.cwd)]
          .filter((p) => p.startsWith(`${dir === '/' ? '' : dir}/`))
          .map((p) => p.slice(dir === '/' ? 1 : dir.length + 1).split('/')[0]!);
      expect(r.names[0]).toEqual([...new Set(given(os.tmpdir()))].sort());
      expect(r.names[2]).toEqual([...new Set(given(path.dirname(ROOT)))].sort());
      for (const name of r.names[1] as string[])
        expect([
          'bin',
          'dev',
          'etc',
          'lib',
          'lib32',
          'lib64',
          'libx32',
          'proc',
          'sbin',
          'sys',
          'tmp',
          'usr',
          'var',
          ...given('/'),
        ]).toContain(name);
    } finally {
      rmSync(other, { recursive: true, force: true });
      rmSync(beside, { force: true });
    }
  });
  it('writes nothing into its copy of the workspace, and at most 64 MiB into a /tmp of its own', async () => {
    const r = await probe(a, {
      write: [
        { path: path.join(selfA.cwd, 'written-by-the-app'), bytes: 1024 },
        { path: path.join(os.tmpdir(), 'small'), bytes: 1024 * 1024 },
        { path: path.join(os.tmpdir(), 'large'), bytes: 100 * 1024 * 1024 },
      ],
    });
    expect(r.write).toEqual(['EROFS', 'written', 'ENOSPC']);
  });
});

describe('a build that writes files without end, to fill the machine’s disk', () => {
  it('is stopped once it has written 2 GiB (BUILD_DISK_LIMIT), and its files go with the run', async () => {
    const dir = hostileWorkspace('fills-disk');
    const started = Date.now();
    try {
      const failure = await prepareRun({ workspace: dir, services: 'local' }).then(
        (run) => run.dispose().then(() => undefined),
        (e: { code?: string; message?: string }) => e,
      );
      expect(failure).toMatchObject({
        code: 'BUILD_DISK_LIMIT',
        message: expect.stringContaining('wrote more than 2 GiB'),
      });
      expect(Date.now() - started).toBeLessThan(90_000);
      expect(leftovers([])).toEqual([]);
    } finally {
      removeWorkspace(dir);
    }
  }, 120_000);
});

describe('a build that rewrites the course’s checks and leaves a daemon holding its stdout', () => {
  const dir = hostileWorkspace('edits-checker');
  const before = courseFilesHash();
  let run: PreparedRun;
  beforeAll(async () => {
    run = await prepareRun({ workspace: dir, services: 'local' });
  }, 120_000);
  afterAll(async () => {
    await run?.dispose();
    removeWorkspace(dir);
  });

  it('changes nothing of the course; its daemon died with the build', async () => {
    const report = (await (await fetch(`${run.context.app.url}/report`)).json()) as {
      write: Record<string, string>;
      read: Record<string, string>;
      daemon: string;
    };
    for (const outcome of [...Object.values(report.write), ...Object.values(report.read)])
      expect(outcome).not.toBe('done');
    expect(report.daemon).toBe('dead');
    expect(processesWith('hostile-daemon')).toEqual([]);
    expect(courseFilesHash()).toBe(before);
  });
});

describe('a build and an app that connect to an abstract unix socket of the machine', () => {
  it('reach nothing: the build runs in a network namespace of its own, the app in a Landlock domain that scopes abstract sockets', async () => {
    // Abstract sockets have no file to hide and no permission check: only a namespace fences them.
    const name = `backend-sandbox-test-${randomBytes(4).toString('hex')}`;
    let connections = 0;
    const server = net.createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((resolve) => server.listen({ path: `\0${name}` }, resolve));
    // The listener answers anyone in this namespace (the attack would work outside the sandbox).
    await new Promise<void>((resolve, reject) =>
      net
        .connect({ path: `\0${name}` })
        .once('connect', resolve)
        .once('error', reject),
    );
    const reachable = connections;
    const dir = hostileWorkspace('abstract-socket');
    writeFileSync(path.join(dir, 'abstract.txt'), name);
    const run = await prepareRun({ workspace: dir, services: 'local' });
    try {
      const report = (await (await fetch(`${run.context.app.url}/report`)).json()) as Record<
        string,
        string
      >;
      expect(report).toEqual({
        abstract: 'ECONNREFUSED',
        postgres: expect.not.stringMatching(/^connected$/),
      });
      // The app shares the machine's network namespace; Landlock refuses the machine's socket.
      const app = (await (await fetch(`${run.context.app.url}/app`)).json()) as Record<
        string,
        string
      >;
      expect(app).toEqual({ abstract: 'EPERM', own: 'connected' });
      expect([reachable, connections]).toEqual([1, 1]);
    } finally {
      await run.dispose();
      removeWorkspace(dir);
      server.close();
    }
  }, 120_000);
});

describe('a dependency URL at 169.254.169.254 (a cloud’s metadata service)', () => {
  it('is refused before the checker’s npm runs: nothing reaches the address', async () => {
    const neighbour = await privateNeighbour();
    const dir = hostileWorkspace('probe');
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as Record<
        string,
        unknown
      >;
      pkg.dependencies = { evil: `http://169.254.169.254:${neighbour.port}/latest/meta-data.tgz` };
      writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg));
      const before = await neighbour.hits();
      const e = (await prepareRun({ workspace: dir, services: 'local' }).then(
        (r) => r.dispose().then(() => new Error('the run was prepared')),
        (err: unknown) => err,
      )) as { code?: string; message?: string };
      expect(e.code).toBe('INSTALL_REFUSED');
      expect(e.message).not.toContain('169.254'); // the learner's file is never quoted
      expect(await neighbour.hits()).toEqual(before);
    } finally {
      neighbour.remove();
      removeWorkspace(dir);
    }
  }, 120_000);
});

describe('a build that escapes into its own session holding the pipes, then hangs', () => {
  it('--timeout bounds the whole run, build included, and nothing of it is left', () => {
    const dir = hostileWorkspace('hangs-in-build');
    try {
      const started = Date.now();
      const r = spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          path.join(ROOT, 'checker', 'src', 'cli.ts'),
          'check',
          '--workspace',
          dir,
          '--services',
          'local',
          '--timeout',
          '15',
          '--step',
          '1',
          '--format',
          'json',
        ],
        { encoding: 'utf8', timeout: 120_000 },
      );
      const seconds = (Date.now() - started) / 1000;
      expect(r.status).toBe(2);
      expect(JSON.parse(r.stdout).error.code).toBe('STOPPED');
      expect(seconds).toBeLessThan(45); // 15 s limit + tsx start and dispose under load (it was 102 s)
      expect(processesWith('hostile-escaped')).toEqual([]);
    } finally {
      removeWorkspace(dir);
    }
  }, 130_000);
});

describe('a workspace the checker’s user did not write, unreadable by others', () => {
  it('still runs as the run’s own uid, never as root', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hostile-private-'));
    cpSync(path.join(HOSTILE_DIR, 'probe'), dir, { recursive: true });
    chownSync(dir, 12345, 12345);
    chmodSync(dir, 0o700);
    const run = await prepareRun({ workspace: dir, services: 'local' });
    try {
      const self = await probe(run, {});
      seenUids.push(self.uid);
      expect(self.uid).toBeGreaterThanOrEqual(RUN_UID_FIRST);
    } finally {
      await run.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('a checker SIGKILLed in the middle of a contained run', () => {
  it('leaves what the next checker sweeps: the uid’s processes, its fence, its lease, its run dir', async () => {
    const dir = hostileWorkspace('probe');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'test', 'support', 'contained-run-child.ts'), dir],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      const [line] = (await once(child.stdout, 'data')) as [Buffer];
      const { uid, owner } = JSON.parse(line.toString()) as { uid: number; owner: string };
      expect(processesOf(uid).length).toBeGreaterThan(0);
      child.kill('SIGKILL');
      await once(child, 'exit');
      expect(leftovers([uid], owner).length).toBeGreaterThan(0); // as a SIGKILLed checker leaves them
      sweepContainedLeftovers();
      expect(leftovers([uid], owner)).toEqual([]);
      expect(fencedUids()).not.toContain(uid);
    } finally {
      child.kill('SIGKILL');
      removeWorkspace(dir);
    }
  }, 120_000);
});

describe('a root checker that cannot run anything as another uid (no CAP_SETUID)', () => {
  it('refuses the run (exit 2, CANNOT_DROP_PRIVILEGES) and runs none of the workspace as root', () => {
    const dir = hostileWorkspace('probe');
    const marker = path.join(
      os.tmpdir(),
      `hostile-ran-${readFileSync(path.join(dir, 'nonce.txt'), 'utf8')}`,
    );
    // A build and an app that would leave a mark, as root or as anyone else.
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const mark = `node -e "require('fs').writeFileSync('${marker}', String(process.getuid()))"`;
    pkg.scripts = { build: mark, start: `${mark} && node server.js` };
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg));
    try {
      // Root, but with setuid and setgid out of its bounding set: spawning as a run uid fails (EPERM).
      const r = spawnSync(
        '/usr/bin/setpriv',
        [
          '--bounding-set=-setuid,-setgid',
          process.execPath,
          '--import',
          'tsx',
          path.join(ROOT, 'checker', 'src', 'cli.ts'),
          'check',
          '--workspace',
          dir,
          '--services',
          'local',
          '--step',
          '1',
          '--format',
          'json',
        ],
        { encoding: 'utf8', timeout: 120_000, cwd: ROOT },
      );
      expect({
        status: r.status,
        error: (JSON.parse(r.stdout) as { error?: { code?: string } }).error?.code,
      }).toEqual({
        status: 2,
        error: 'CANNOT_DROP_PRIVILEGES',
      });
      expect(existsSync(marker)).toBe(false);
    } finally {
      rmSync(marker, { force: true });
      removeWorkspace(dir);
    }
  }, 130_000);
});

describe('batch grading without containment', () => {
  it('refuses (exit 2, UNCONTAINED) before any of the workspace’s code runs, as a checker that cannot contain it', () => {
    const r = spawnSync(
      '/usr/bin/setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        '--import',
        'tsx',
        path.join(ROOT, 'test', 'support', 'uncontained-child.ts'),
        path.join(HOSTILE_DIR, 'probe'),
      ],
      { encoding: 'utf8', timeout: 60_000, cwd: ROOT },
    );
    expect(JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}')).toEqual({
      code: 'UNCONTAINED',
      runtime: {
        kind: 'process',
        contained: false,
        reason: expect.stringContaining('not root'),
      },
    });
  }, 70_000);
});

describe('a reference graded next to a hostile run', () => {
  it('still scores full marks', async () => {
    const dir = hostileWorkspace('probe');
    const hostile = await prepareRun({ workspace: dir, services: 'local' });
    try {
      const self = await probe(hostile, {});
      seenUids.push(self.uid);
      // While the reference is graded, the hostile app hammers every loopback port it can name.
      let attacking = true;
      const attacks = (async () => {
        for (let round = 0; attacking && round < 200; round++) {
          const ports = Array.from({ length: 200 }, (_, i) => 1024 + ((round * 200 + i) % 64000));
          await probe(hostile, { connect: ports.map((port) => ({ host: '127.0.0.1', port })) });
        }
      })();
      const result = await grade(
        { workspace: REFERENCE, services: 'local', timeoutSeconds: 400 },
        loadPrepareRun(),
      );
      attacking = false;
      await attacks;
      expect([result.score, result.status, result.runtime.contained]).toEqual([
        result.maxScore,
        'pass',
        true,
      ]);
    } finally {
      await hostile.dispose();
      removeWorkspace(dir);
    }
  }, 450_000);
});

describe('a build that changes an installed dependency, graded twice with the same lock', () => {
  it('changes only its own copy: the next run links the cached tree, which stays the checker’s and unchanged', async () => {
    // A workspace outside the course (its dependencies come from npm), with a nonce in its
    // package.json so the dependency cache entry is this test's own.
    const nonce = randomBytes(6).toString('hex');
    const copies: string[] = [];
    const fresh = (): string => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'hostile-deps-'));
      cpSync(path.join(HOSTILE_DIR, 'poisons-dependencies'), dir, { recursive: true });
      const pkgPath = path.join(dir, 'package.json');
      const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as Record<string, unknown>;
      writeFileSync(pkgPath, JSON.stringify({ ...pkg, description: `nonce ${nonce}` }));
      writeFileSync(path.join(dir, 'nonce.txt'), randomBytes(8).toString('hex')); // never a cached build
      copies.push(dir);
      return dir;
    };
    const graded = async (): Promise<{ probe: Record<string, string>; progress: string[] }> => {
      const progress: string[] = [];
      const run = await prepareRun({
        workspace: fresh(),
        services: 'local',
        onProgress: (m) => progress.push(m),
      });
      try {
        const res = await fetch(`${run.context.app.url}/probe`);
        return { probe: (await res.json()) as Record<string, string>, progress };
      } finally {
        await run.dispose();
      }
    };
    const key = dependencyCacheKey(readWorkspace(fresh()));
    if (!key) throw new Error('the fixture should be cacheable');
    const cached = path.join(
      cacheDir('contained-dependencies'),
      key,
      'node_modules',
      'is-number',
      'index.js',
    );
    try {
      const first = await graded();
      expect(first.progress).toContain('npm ci --ignore-scripts...');
      expect(first.probe).toEqual({
        inPlace: 'written',
        replaced: 'replaced',
        isNumber: 'replaced',
      });

      const second = await graded();
      expect(second.progress).not.toContain('npm ci --ignore-scripts...');
      expect(second.probe).toEqual({
        inPlace: 'EACCES',
        replaced: 'replaced',
        isNumber: 'replaced',
      });

      const st = statSync(cached);
      expect({ uid: st.uid, groupOrOtherMayWrite: (st.mode & 0o022) !== 0 }).toEqual({
        uid: 0,
        groupOrOtherMayWrite: false,
      });
      expect(readFileSync(cached, 'utf8')).not.toMatch(/poisoned|replaced/);
    } finally {
      copies.forEach(removeWorkspace);
      rmSync(path.dirname(path.dirname(path.dirname(cached))), { recursive: true, force: true });
    }
  }, 240_000);
});
