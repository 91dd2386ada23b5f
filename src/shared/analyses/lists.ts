// List settings as the CLI and the forms give them: arrays, or comma-separated strings.
import { z } from 'zod';

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

/** Integers as a list, or the CLI's `0-15` / `0,3,8-11` form. */
export const intList = z.preprocess((v, ctx) => {
  if (typeof v === 'number') return [v];
  if (typeof v !== 'string') return v;
  try {
    const out: number[] = [];
    for (const part of v.split(',')) {
      const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(part);
      if (m) out.push(...expandRange(Number(m[1]), Number(m[2]), part.trim()));
      else out.push(Number(part.trim()));
      if (out.length > MAX_LIST_LENGTH) throw new RangeError(`the list holds more than ${MAX_LIST_LENGTH} values`);
    }
    return out;
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
}, z.array(z.number().int().min(0)).min(1).max(MAX_LIST_LENGTH));

/** Names as a list or a comma-separated string (may be empty in defaults; runs then say what is missing). */
export const nameList = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v),
  z.array(z.string().min(1)),
);

/** Numbers as a list or a comma-separated string. */
export const numberList = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(',').map((s) => Number(s.trim())) : typeof v === 'number' ? [v] : v),
  z.array(z.number()),
);
