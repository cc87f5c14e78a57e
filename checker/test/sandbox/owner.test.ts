import { spawnSync } from 'node:child_process';
import {
  orphaned,
  ownerAlive,
  ownerTag,
  parseOwnerTag,
  processStart,
  selfOwner,
} from '../../src/sandbox/owner';

describe('owner (pid + start time): the one rule every sweeper uses', () => {
  it('this checker owns what carries its tag', () => {
    const tag = ownerTag();
    expect(parseOwnerTag(`${tag}-a1b2c3`)).toEqual(selfOwner());
    expect(ownerAlive(selfOwner())).toBe(true);
    expect(orphaned(`${tag}-a1b2c3`)).toBe(false);
  });

  it('a live pid that started at another time (a recycled pid) does not keep a leftover alive', () => {
    const start = processStart(process.ppid);
    expect(start).toBeGreaterThan(0);
    expect(orphaned(`${process.ppid}-${start}-x`)).toBe(false);
    expect(orphaned(`${process.ppid}-${(start ?? 0) + 1}-x`)).toBe(true);
  });

  it('a pid that has exited is dead; names that carry no owner are left alone', () => {
    const r = spawnSync('true');
    expect(orphaned(`${r.pid}-1-x`)).toBe(true);
    expect(orphaned(`${r.pid}_1_x`)).toBe(true);
    expect(orphaned('warm-pg-0123abcd')).toBe(false);
    expect(parseOwnerTag('12345')).toBeUndefined();
  });
});
