// List settings as the CLI and the forms give them: arrays, or comma-separated strings.
import { z } from 'zod';
import { expandRange, MAX_LIST_LENGTH, parseIntList } from './ranges';

export { expandRange, MAX_LIST_LENGTH };

/** Integers as a list, or the CLI's `0-15` / `0,3,8-11` form. */
export const intList = z.preprocess((v, ctx) => {
  if (typeof v === 'number') return [v];
  if (typeof v !== 'string') return v;
  try {
    return parseIntList(v);
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
