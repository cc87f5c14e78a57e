/** Terminal colours, only when asked for (a TTY without NO_COLOR). */
export interface Style {
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const paint = (code: number, reset: number) => (s: string) => `\u001b[${code}m${s}\u001b[${reset}m`;

export function createStyle(color: boolean): Style {
  if (!color) {
    const plain = (s: string): string => s;
    return { green: plain, red: plain, yellow: plain, dim: plain, bold: plain };
  }
  return {
    green: paint(32, 39),
    red: paint(31, 39),
    yellow: paint(33, 39),
    dim: paint(2, 22),
    bold: paint(1, 22),
  };
}

/** Colours for a stream: on a TTY, unless NO_COLOR is set (https://no-color.org). */
export function colorFor(stream: { isTTY?: boolean }): boolean {
  return Boolean(stream.isTTY) && !process.env['NO_COLOR'];
}
