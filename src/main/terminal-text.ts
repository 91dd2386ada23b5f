// The one place text meets a terminal. Names in model files (operators, layers, nodes), file
// paths and error messages can carry control characters: an ANSI escape sequence could recolour,
// move the cursor, retitle the window or hide what follows. Every line the CLI and the services
// write for people passes through forTerminal; JSON output needs nothing (JSON.stringify escapes
// control characters itself).

/**
 * C0 controls except tab and newline, DEL, C1 controls, and the Unicode bidirectional overrides
 * and isolates (which can reorder what is shown).
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Text safe to print: each unsafe character is shown as a visible escape (`\x1b`, `\u202e`). */
export function forTerminal(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
