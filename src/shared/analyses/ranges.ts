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
