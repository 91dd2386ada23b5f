// List settings as the CLI and the forms give them: arrays, or comma-separated strings.
import { z } from 'zod';

/** Integers as a list, or the CLI's `0-15` / `0,3,8-11` form. */
export const intList = z.preprocess((v) => {
  if (typeof v === 'number') return [v];
  if (typeof v !== 'string') return v;
  return v.split(',').flatMap((part) => {
    const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(part);
    if (!m) return [Number(part.trim())];
    const [a, b] = [Number(m[1]), Number(m[2])];
    return Array.from({ length: Math.max(0, b - a + 1) }, (_, i) => a + i);
  });
}, z.array(z.number().int().min(0)).min(1));

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
