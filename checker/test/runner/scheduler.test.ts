import { CheckScheduler } from '../../src/runner/scheduler';

/** A check that records when it started and ended, and finishes when told to. */
function tracked(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    finish: () => finish(),
    work: async () => {
      log.push(`${name}+`);
      await done;
      log.push(`${name}-`);
    },
  };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('CheckScheduler', () => {
  it('runs concurrent checks side by side up to the limit, in registration order', async () => {
    const log: string[] = [];
    const scheduler = new CheckScheduler(2, async () => undefined);
    const [a, b, c] = ['a', 'b', 'c'].map((n) => tracked(log, n));
    const runs = [a, b, c].map((t) => scheduler.schedule(true, t!.work));
    await turn();
    expect(log).toEqual(['a+', 'b+']);
    b!.finish();
    await turn();
    expect(log).toEqual(['a+', 'b+', 'b-', 'c+']);
    a!.finish();
    c!.finish();
    await Promise.all(runs);
  });

  it('runs the concurrent checks first, then each other check alone, in order, after the clean-up', async () => {
    const log: string[] = [];
    const scheduler = new CheckScheduler(4, async () => void log.push('settle'));
    const [a, x, b, y] = ['a', 'x', 'b', 'y'].map((n) => tracked(log, n));
    const runs = [
      scheduler.schedule(true, a!.work),
      scheduler.schedule(false, x!.work),
      scheduler.schedule(true, b!.work),
      scheduler.schedule(false, y!.work),
    ];
    await turn();
    expect(log).toEqual(['a+', 'b+']);
    a!.finish();
    await turn();
    expect(log).toEqual(['a+', 'b+', 'a-']);
    b!.finish();
    await turn();
    expect(log).toEqual(['a+', 'b+', 'a-', 'b-', 'settle', 'x+']);
    x!.finish();
    await turn();
    expect(log).toEqual(['a+', 'b+', 'a-', 'b-', 'settle', 'x+', 'x-', 'y+']);
    y!.finish();
    await Promise.all(runs);
  });

  it('admits concurrent checks of higher rank first, in registration order among equals', async () => {
    const log: string[] = [];
    const scheduler = new CheckScheduler(1, async () => undefined, { total: () => 4 });
    const checks = ['a', 'b', 'c', 'd'].map((n) => tracked(log, n));
    const ranks = [15, 30, 15, 30];
    const runs = checks.map((t, i) => scheduler.schedule(true, t.work, ranks[i]));
    for (let i = 0; i < checks.length; i += 1) {
      await turn();
      const running = log[log.length - 1]!.slice(0, 1);
      checks[['a', 'b', 'c', 'd'].indexOf(running)]!.finish();
    }
    await Promise.all(runs);
    expect(log).toEqual(['b+', 'b-', 'd+', 'd-', 'a+', 'a-', 'c+', 'c-']);
  });

  it('runs the checks queued last after every other check that runs alone', async () => {
    const log: string[] = [];
    const scheduler = new CheckScheduler(4, async () => undefined, { total: () => 3 });
    const checks = ['s', 'x', 'y'].map((n) => tracked(log, n));
    const runs = [
      scheduler.schedule(false, checks[0]!.work, 0, { last: true }),
      scheduler.schedule(false, checks[1]!.work),
      scheduler.schedule(false, checks[2]!.work),
    ];
    for (const name of ['x', 'y', 's']) {
      await turn();
      checks[['s', 'x', 'y'].indexOf(name)]!.finish();
    }
    await Promise.all(runs);
    expect(log).toEqual(['x+', 'x-', 'y+', 'y-', 's+', 's-']);
  });

  it('admits nothing before every check of the run is queued', async () => {
    const log: string[] = [];
    const scheduler = new CheckScheduler(4, async () => undefined, { total: () => 2 });
    const [x, a] = ['x', 'a'].map((n) => tracked(log, n));
    const first = scheduler.schedule(false, x!.work);
    await turn();
    expect(log).toEqual([]);
    const second = scheduler.schedule(true, a!.work);
    await turn();
    expect(log).toEqual(['a+']);
    a!.finish();
    await turn();
    expect(log).toEqual(['a+', 'a-', 'x+']);
    x!.finish();
    await Promise.all([first, second]);
  });

  it('with a limit of 1 runs every check alone, in order, cleaning up after each concurrent one', async () => {
    const log: string[] = [];
    const scheduler = new CheckScheduler(1, async () => void log.push('settle'));
    const checks = ['a', 'b', 'x'].map((n) => tracked(log, n));
    const runs = checks.map((t, i) => scheduler.schedule(i < 2, t.work));
    for (const t of checks) {
      await turn();
      t.finish();
    }
    await Promise.all(runs);
    expect(log).toEqual(['a+', 'a-', 'settle', 'b+', 'b-', 'settle', 'x+', 'x-']);
  });

  it('when the clean-up fails, the check waiting for it is refused with why, and later ones still run', async () => {
    const scheduler = new CheckScheduler(4, () => Promise.reject(new Error('redis is still down')));
    const first = scheduler.schedule(true, async () => 'a');
    const refused = scheduler.schedule(false, async () => 'x');
    const later = scheduler.schedule(false, async () => 'y');
    await expect(first).resolves.toBe('a');
    await expect(refused).rejects.toThrow(
      'cleanup after the previous checks failed: redis is still down',
    );
    await expect(later).resolves.toBe('y');
  });

  it('a check that throws frees its place', async () => {
    const scheduler = new CheckScheduler(1, async () => undefined);
    await expect(
      scheduler.schedule(false, () => Promise.reject(new Error('boom'))),
    ).rejects.toThrow('boom');
    await expect(scheduler.schedule(false, async () => 'next')).resolves.toBe('next');
  });

  it('retryAlone runs a check again alone, after the checks running now and before every waiting one', async () => {
    const log: string[] = [];
    const scheduler = new CheckScheduler(4, async () => void log.push('settle'));
    const [a, b, c, r] = ['a', 'b', 'c', 'r'].map((n) => tracked(log, n));
    const runs = [
      scheduler.schedule(true, a!.work),
      scheduler.schedule(true, b!.work),
      scheduler.schedule(false, c!.work),
    ];
    await turn();
    a!.finish();
    await runs[0];
    const retried = scheduler.retryAlone(r!.work);
    await turn();
    expect(log).toEqual(['a+', 'b+', 'a-']);
    b!.finish();
    await turn();
    expect(log).toEqual(['a+', 'b+', 'a-', 'b-', 'settle', 'r+']);
    r!.finish();
    await turn();
    expect(log).toEqual(['a+', 'b+', 'a-', 'b-', 'settle', 'r+', 'r-', 'c+']);
    c!.finish();
    await Promise.all([...runs, retried]);
  });

  it('a held scheduler queues checks and admits none until released', async () => {
    const log: string[] = [];
    const scheduler = new CheckScheduler(4, async () => void log.push('settle'), { held: true });
    const [x, a] = ['x', 'a'].map((n) => tracked(log, n));
    const runs = [scheduler.schedule(false, x!.work), scheduler.schedule(true, a!.work)];
    await turn();
    expect(log).toEqual([]);
    scheduler.release();
    await turn();
    expect(log).toEqual(['a+']);
    a!.finish();
    await turn();
    expect(log).toEqual(['a+', 'a-', 'settle', 'x+']);
    x!.finish();
    await Promise.all(runs);
  });
});
