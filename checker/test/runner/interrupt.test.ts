import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { descendants } from '../../src/sandbox/process-tree';
import { processesMentioning, stillAlive } from '../support/leftovers';
import { writeTinyApp } from '../support/tiny-app';

const TSX = path.join(__dirname, '..', '..', '..', 'node_modules', '.bin', 'tsx');
const CHILD = path.join(__dirname, '..', 'support', 'ctrl-c-child.ts');

describe.each(['SIGINT', 'SIGTERM'] as const)('%s to the checker', (sig) => {
  it('disposes everything: app tree, Redis and its files, private Postgres and its files', async () => {
    const tiny = writeTinyApp();
    const child = spawn(TSX, [CHILD, tiny.dir], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, SANDBOX_WARM_SERVICES: 'off' },
    });
    try {
      let out = '';
      const [line] = await new Promise<string[]>((resolve) =>
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          if (out.includes('\n')) resolve(out.split('\n'));
        }),
      );
      const status = JSON.parse(line!) as { ready: boolean; pid: number; databaseUrl: string };
      expect(status.ready).toBe(true);
      const tree = descendants(child.pid!);
      const runDirs = path.join('/tmp', `backend-sandbox-runs-${process.getuid?.() ?? 'u'}`);
      const ownRunDirs = (): string[] =>
        existsSync(runDirs)
          ? readdirSync(runDirs).filter((d) => d.includes(`-${status.pid}-`))
          : [];
      expect(ownRunDirs()).toHaveLength(2); // the private Postgres cluster and the redis-server of this run
      expect(tree.length).toBeGreaterThanOrEqual(4); // the checker's node, postgres, redis-server, the app
      expect(processesMentioning(tiny.dir).length).toBeGreaterThan(0);
      child.kill(sig);
      const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
      expect(code === null ? signal : code).toBeTruthy();
      expect(stillAlive(tree)).toEqual([]);
      expect(processesMentioning(tiny.dir)).toEqual([]);
      expect(ownRunDirs()).toEqual([]);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      tiny.remove();
    }
  }, 40_000);
});
