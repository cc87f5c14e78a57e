import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import bcrypt from 'bcrypt';
import { createWorld } from '../test/support/world';
import { freePort } from '../test/support/spawn';
import { json } from '../test/support/http';
import { signUpAndLogIn, uniqueEmail } from '../test/support/users';
import { load, median, type LoadResult } from './load';
import { buildServers, spawnAppCompiled, spawnBareCompiled, stopServer } from './servers';
import { wsLatency } from './ws-latency';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BCRYPT_COST = 10;
const RESULTS = path.join(__dirname, '..', '..', 'bench', 'results');

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

/** CPU time (user + system, ms) the process has used so far: stabler than req/s on a busy machine. */
const cpuMs = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * (1000 / 100);
};

interface Measured extends LoadResult {
  cpuUsPerRequest: number;
}

async function measure(pid: number, opts: Parameters<typeof load>[0]): Promise<Measured> {
  const before = cpuMs(pid);
  const result = await load(opts);
  const total = result.requestsPerSec * Number(opts.duration ?? 4);
  return { ...result, cpuUsPerRequest: Math.round(((cpuMs(pid) - before) * 1000) / total) };
}

async function main(): Promise<void> {
  buildServers();
  const deadPort = await freePort();
  const world = await createWorld({ BCRYPT_COST: String(BCRYPT_COST), LOG_LEVEL: 'error' });
  const cached = await spawnAppCompiled(world.env, await freePort());
  // Same database and secret, Redis unreachable: every read goes to Postgres.
  const uncached = await spawnAppCompiled(
    { ...world.env, REDIS_URL: `redis://127.0.0.1:${deadPort}/0` },
    await freePort(),
  );
  // Spawned the same way as the app: compiled JS, same Node flags, same environment.
  const bare = await spawnBareCompiled(world.env, await freePort());
  const pid = (app: { child: { pid?: number } }) => app.child.pid ?? 0;
  try {
    const session = await signUpAndLogIn(cached.url);
    const note = await json(`${cached.url}/notes`, {
      body: { title: 'bench', body: 'x'.repeat(200) },
      token: session.accessToken,
    });
    const id = String((note.body.note as { id: string }).id);
    const headers = { authorization: `Bearer ${session.accessToken}` };
    const cachedGet = { url: `${cached.url}/notes/${id}`, headers };
    const bareGet = { url: `${bare.url}/bare` };
    const hit = await fetch(cachedGet.url, { headers }).then(() =>
      fetch(cachedGet.url, { headers }),
    );
    if (hit.headers.get('x-cache') !== 'HIT') throw new Error('the cached route does not HIT');
    // Warm-up (JIT, connection pools), not reported.
    await load({ ...cachedGet, duration: 2 });
    await load({ ...bareGet, duration: 2 });

    const rounds: {
      loadAverage1m: number;
      order: string;
      cached: Measured;
      bare: Measured;
      uncached: Measured;
    }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const loadAverage1m = Number((os.loadavg()[0] ?? 0).toFixed(2));
      // Alternate which goes first, so a drift in the machine's load favours neither.
      const appFirst = r % 2 === 0;
      const first = appFirst
        ? await measure(pid(cached), cachedGet)
        : await measure(pid(bare), bareGet);
      const second = appFirst
        ? await measure(pid(bare), bareGet)
        : await measure(pid(cached), cachedGet);
      const c = appFirst ? first : second;
      const b = appFirst ? second : first;
      const u = await measure(pid(uncached), {
        url: `${uncached.url}/notes/${id}`,
        headers,
        duration: 2,
      });
      if (c.non2xx + b.non2xx + u.non2xx > 0)
        throw new Error('non-2xx answers during the benchmark');
      rounds.push({
        loadAverage1m,
        order: appFirst ? 'app, bare' : 'bare, app',
        cached: c,
        bare: b,
        uncached: u,
      });
      console.log(
        `round ${r + 1} (load ${loadAverage1m}): cached ${c.requestsPerSec} req/s (${c.cpuUsPerRequest} us CPU/req), bare ${b.requestsPerSec} (${b.cpuUsPerRequest}), uncached ${u.requestsPerSec}`,
      );
    }
    const med = (k: 'cached' | 'uncached' | 'bare') =>
      median(rounds.map((x) => x[k].requestsPerSec));
    const medCpu = (k: 'cached' | 'bare') => median(rounds.map((x) => x[k].cpuUsPerRequest));
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
      machine: {
        cpus: os.cpus().length,
        node: process.version,
        loadAverage1m: median(rounds.map((x) => x.loadAverage1m)),
      },
      notesGet: {
        rounds,
        medianRequestsPerSec: {
          cached: med('cached'),
          uncached: med('uncached'),
          bare: med('bare'),
        },
        cachedVsBare: Number(median(ratios).toFixed(3)),
        perRoundCachedVsBare: ratios.map((x) => Number(x.toFixed(3))),
        medianCpuUsPerRequest: { cached: medCpu('cached'), bare: medCpu('bare') },
        cpuBareVsCached: Number((medCpu('bare') / medCpu('cached')).toFixed(3)),
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
    await Promise.all([stopServer(cached), stopServer(uncached), stopServer(bare)]);
    await world.close();
  }
}

function markdown(r: {
  date: string;
  machine: { cpus: number; node: string; loadAverage1m: number };
  notesGet: {
    medianRequestsPerSec: { cached: number; uncached: number; bare: number };
    medianCpuUsPerRequest: { cached: number; bare: number };
    perRoundCachedVsBare: number[];
    cpuBareVsCached: number;
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

${r.machine.cpus} cores, Node ${r.machine.node}, machine load average (1 min, median over the rounds) **${r.machine.loadAverage1m}** (shared machine: other work was running).
Both servers compiled JS (\`node dist/server.js\`, \`node .cache/bench/bare-server.js\`), same Node flags and environment (NODE_ENV=production, LOG_LEVEL=error).
Loopback, autocannon 20 connections x 4 s, ${ROUNDS} alternating rounds (the order flips each round), medians.

| target | median req/s | median CPU us/request |
|---|---|---|
| bare Express \`GET /bare\` | ${m.bare} | ${r.notesGet.medianCpuUsPerRequest.bare} |
| authenticated cached \`GET /notes/:id\` (Redis HIT) | ${m.cached} | ${r.notesGet.medianCpuUsPerRequest.cached} |
| authenticated uncached \`GET /notes/:id\` (Redis unreachable: Postgres) | ${m.uncached} | |

- cached / bare (median of per-round ratios): **${r.notesGet.cachedVsBare}** (target >= 0.5); per round: ${r.notesGet.perRoundCachedVsBare.join(', ')}
- CPU per request, bare / cached (what the ratio would be with a core to itself): ${r.notesGet.cpuBareVsCached}
- cached / uncached: ${r.notesGet.cachedVsUncached}
- login: ${r.login.loginsPerSec} logins/s vs bcrypt's own ${r.login.bcryptComparesPerSec} compares/s at cost ${r.login.bcryptCost} (ratio ${r.login.ratio}; non-2xx ${r.login.non2xx})
- WebSocket delivery, ${r.websockets.sockets} sockets x ${r.websockets.events} events (${r.websockets.delivered}/${r.websockets.expected} delivered), from the POST to arrival: p50 ${r.websockets.p50Ms} ms, p99 ${r.websockets.p99Ms} ms
`;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
