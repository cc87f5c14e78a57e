import os from 'node:os';

/** `--name VALUE` from the command line: the word after it, or undefined without it. */
export function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

/** `--name N` from the command line, or the fallback. */
export function flag(name: string, fallback: number): number {
  const value = option(name);
  return value === undefined ? fallback : Number(value);
}

/** The median, rounded to a whole number when it falls between two values. */
export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : Math.round((s[m - 1]! + s[m]!) / 2);
};

/** The machine a figure was taken on: its cores and its load average before the run and now (1/5/15 min). */
export function machineLoad(loadBefore: number[]): {
  cpus: number;
  loadAverageBefore: number[];
  loadAverageAfter: number[];
} {
  return {
    cpus: os.cpus().length,
    loadAverageBefore: loadBefore.map((l) => +l.toFixed(2)),
    loadAverageAfter: os.loadavg().map((l) => +l.toFixed(2)),
  };
}
