// Summary statistics shared by the engine, the views and the benches.

/** Median of the finite values (mean of the middle two for an even count); null when there are none. */
export function median(values: ArrayLike<number>): number | null {
  const v = Array.from(values).filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}
