import type { CheckResult } from '../results/types';
import type { Style } from '../reporters/style';
import { terminalSafe } from '../reporters/terminal-text';

/** What a check run says while it works, on stderr. */
export interface LiveLines {
  say(message: string): void;
  check(check: CheckResult): void;
  /** Removes the transient check line, before the report is printed. */
  done(): void;
}

/**
 * On a terminal, each finished check replaces the previous one on a single transient line (the
 * report that follows lists them all: nothing is printed twice). Elsewhere (a log file), check
 * lines are written only when the report does not list them itself.
 */
export function liveLines(
  stream: NodeJS.WriteStream,
  style: Style,
  opts: { reportListsChecks: boolean },
): LiveLines {
  let transient = false;
  const clear = (): void => {
    if (transient) stream.write('\r\u001b[K');
    transient = false;
  };
  const mark = (c: CheckResult): string =>
    c.status === 'pass' ? '✓' : c.status === 'fail' ? '✗' : '!';
  return {
    say: (message) => {
      clear();
      stream.write(`${style.dim(terminalSafe(message))}\n`);
    },
    check: (c) => {
      const line = `  ${mark(c)} ${terminalSafe(c.name)}`;
      if (stream.isTTY) {
        clear();
        const width = stream.columns > 4 ? stream.columns - 1 : 79;
        stream.write(style.dim(line.length > width ? `${line.slice(0, width - 1)}…` : line));
        transient = true;
      } else if (!opts.reportListsChecks) stream.write(`${line}\n`);
    },
    done: clear,
  };
}
