// Integer ranges in list settings (`0-15`), bounded before they are expanded. Free of the settings
// schemas so that the command line can check its arguments before loading them.

/**
 * Most values one list setting may hold (units, channels): more than any layer of a vision
 * network has channels. Ranges are checked against it before they are expanded, so `0-100000000`
 * is refused at once instead of filling memory.
 */
export const MAX_LIST_LENGTH = 65_536;

/** The integers a..b; throws (naming the range) when it runs backwards or holds too many. */
export function expandRange(a: number, b: number, text = `${a}-${b}`): number[] {
  if (b < a) throw new RangeError(`range ${text} runs backwards`);
  if (b - a + 1 > MAX_LIST_LENGTH) {
    throw new RangeError(`range ${text} holds ${b - a + 1} values; a list holds at most ${MAX_LIST_LENGTH}`);
  }
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

/**
 * "0-3, 7" → [0, 1, 2, 3, 7]: comma-separated whole numbers and a-b ranges, bounded before each
 * range is expanded. Throws saying which part is wrong.
 */
export function parseIntList(text: string): number[] {
  const out: number[] = [];
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (!part) continue;
    const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(part);
    if (!m) throw new RangeError(`"${part}" is not a whole number or range (e.g. 0-15, 20)`);
    const [a, b] = [Number(m[1]), Number(m[2] ?? m[1])];
    // A single over-long range is named by expandRange; this bounds the list as a whole.
    if (out.length && b >= a && out.length + (b - a + 1) > MAX_LIST_LENGTH) {
      throw new RangeError(`the list holds more than ${MAX_LIST_LENGTH} values; a list holds at most ${MAX_LIST_LENGTH}`);
    }
    out.push(...expandRange(a, b, part));
  }
  return out;
}
