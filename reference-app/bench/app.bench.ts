import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import bcrypt from 'bcrypt';
import {
  createWorld,
  freePort,
  json,
  signupAndLogin,
  spawnApp,
  uniqueEmail,
  type ChildApp,
} from '../test/async-support';
import { load, median, type LoadResult } from './load';
import { wsLatency } from './ws-latency';

const ROUNDS = 3;
const BCRYPT_COST = 10;
const RESULTS = path.join(__dirname, '..', '..', 'bench', 'results');

async function stop(app: ChildApp): Promise<void> {
  app.child.kill('SIGTERM');
  await app.exited;
}

async function spawnBare(): Promise<ChildApp> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(__dirname, 'bare-server.ts')],
    {
      env: { ...process.env, PORT: String(port) },
      stdio: 'ignore',
    },
  );
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    if (
      await fetch(`${url}/bare`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { url, child, exited };
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error('bare server did not start');
}

async function bcryptComparesPerSecond(ms: number): Promise<number> {
  const hash = await bcrypt.hash('correct horse battery', BCRYPT_COST);
  let done = 0;
  const until = Date.now() + ms;
  const lane = async (): Promise<void> => {
    while (Date.now() < until) {
      await bcrypt.compare('correct horse battery', hash);
      done++;
    }
  };
  const startedAt = Date.now();
  await Promise.all(Array.from({ length: 4 }, lane));
  return done / ((Date.now() - startedAt) / 1000);
}

async function main(): Promise<void> {
  const deadPort = await freePort();
  const world = await createWorld({ BCRYPT_COST: String(BCRYPT_COST), LOG_LEVEL: 'error' });
  const cached = await spawnApp(world.env, await freePort());
  // Same database and secret, Redis unreachable: every read goes to Postgres.
  const uncached = await spawnApp(
    { ...world.env, REDIS_URL: `redis://127.0.0.1:${deadPort}/0` },
    await freePort(),
  );
  const bare = await spawnBare();
  try {
    const session = await signupAndLogin(cached.url);
    const note = await json(`${cached.url}/notes`, {
      body: { title: 'bench', body: 'x'.repeat(200) },
      token: session.accessToken,
    });
    const id = String((note.body.note as { id: string }).id);
    const headers = { authorization: `Bearer ${session.accessToken}` };
    await fetch(`${cached.url}/notes/${id}`, { headers });

    const rounds: { cached: LoadResult; uncached: LoadResult; bare: LoadResult }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const c = await load({ url: `${cached.url}/notes/${id}`, headers });
      const u = await load({ url: `${uncached.url}/notes/${id}`, headers });
      const b = await load({ url: `${bare.url}/bare` });
      rounds.push({ cached: c, uncached: u, bare: b });
      console.log(
        `round ${r + 1}: cached ${c.requestsPerSec} req/s, uncached ${u.requestsPerSec}, bare ${b.requestsPerSec}`,
      );
    }
    const med = (k: 'cached' | 'uncached' | 'bare') =>
      median(rounds.map((x) => x[k].requestsPerSec));
    const ratios = rounds.map((x) => x.cached.requestsPerSec / x.bare.requestsPerSec);

    // Login: 100 users, 5 attempts each (the rate limit's budget), against bcrypt's own compares/s.
    const users = await Promise.all(Array.from({ length: 100 }, () => uniqueEmail('bench')));
    await Promise.all(
      users.map((email) =>
        json(`${cached.url}/auth/signup`, { body: { email, password: 'correct horse battery' } }),
      ),
    );
    let next = 0;
    const login = await load({
      url: cached.url,
      amount: users.length * 5,
      duration: 20,
      connections: 8,
      requests: [
        {
          method: 'POST',
          path: '/auth/login',
          headers: { 'content-type': 'application/json' },
          setupRequest: (req) => ({
            ...req,
            body: JSON.stringify({
              email: users[next++ % users.length],
              password: 'correct horse battery',
            }),
          }),
        },
      ],
    });
    const bcryptPerSec = await bcryptComparesPerSecond(3000);

    const ws = await wsLatency(cached.url, session.accessToken, 1000, 20);

    const results = {
      date: new Date().toISOString(),
      machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
      notesGet: {
        rounds,
        medianRequestsPerSec: {
          cached: med('cached'),
          uncached: med('uncached'),
          bare: med('bare'),
        },
        cachedVsBare: Number(median(ratios).toFixed(3)),
        cachedVsUncached: Number((med('cached') / med('uncached')).toFixed(3)),
        target: 'cached >= 0.5 x bare',
      },
      login: {
        bcryptCost: BCRYPT_COST,
        loginsPerSec: login.requestsPerSec,
        non2xx: login.non2xx,
        bcryptComparesPerSec: Number(bcryptPerSec.toFixed(1)),
        ratio: Number((login.requestsPerSec / bcryptPerSec).toFixed(3)),
      },
      websockets: ws,
    };
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(path.join(RESULTS, 'app.json'), `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(path.join(RESULTS, 'app.md'), markdown(results));
    console.log(markdown(results));
  } finally {
    await Promise.all([stop(cached), stop(uncached), stop(bare)]);
    await world.close();
  }
}

function markdown(r: {
  date: string;
  machine: { cpus: number; node: string };
  notesGet: {
    medianRequestsPerSec: { cached: number; uncached: number; bare: number };
    cachedVsBare: number;
    cachedVsUncached: number;
  };
  login: {
    loginsPerSec: number;
    bcryptComparesPerSec: number;
    ratio: number;
    bcryptCost: number;
    non2xx: number;
  };
  websockets: {
    sockets: number;
    events: number;
    delivered: number;
    expected: number;
    p50Ms: number;
    p99Ms: number;
  };
}): string {
  const m = r.notesGet.medianRequestsPerSec;
  return `# Reference app benchmark (${r.date})

${r.machine.cpus} cores, Node ${r.machine.node}; loopback, autocannon 20 connections x 4 s, ${ROUNDS} rounds side by side, medians.

| target | median req/s |
|---|---|
| bare Express \`GET /bare\` | ${m.bare} |
| authenticated cached \`GET /notes/:id\` (Redis HIT) | ${m.cached} |
| authenticated uncached \`GET /notes/:id\` (Redis unreachable: Postgres) | ${m.uncached} |

- cached / bare (median of per-round ratios): **${r.notesGet.cachedVsBare}** (target >= 0.5)
- cached / uncached: ${r.notesGet.cachedVsUncached}
- login: ${r.login.loginsPerSec} logins/s vs bcrypt's own ${r.login.bcryptComparesPerSec} compares/s at cost ${r.login.bcryptCost} (ratio ${r.login.ratio}; non-2xx ${r.login.non2xx})
- WebSocket delivery, ${r.websockets.sockets} sockets x ${r.websockets.events} events (${r.websockets.delivered}/${r.websockets.expected} delivered), from the POST to arrival: p50 ${r.websockets.p50Ms} ms, p99 ${r.websockets.p99Ms} ms
`;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
