/**
 * Text that came from the app (bodies, headers, logs, messages) made safe for a terminal: control
 * characters (ESC, CR, backspace, bell, C1 codes) and bidirectional overrides are shown as escapes
 * such as `\x1b`, so an app cannot clear the screen, move the cursor or forge a summary line.
 * Newlines and tabs are kept: the report lays text out by line.
 */
const UNSAFE =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    if (c === '\r') return '\\r';
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
