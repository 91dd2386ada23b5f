// Shared-bin histograms: two layers' distributions of one metric are only comparable on the same bins.
export interface Histogram {
  edges: number[];
  counts: number[][];
}

/** Counts of every series on `bins` equal bins spanning all their finite values together. */
export function sharedHistogram(series: number[][], bins: number): Histogram {
  const finite = series.map((s) => s.filter(Number.isFinite));
  const all = finite.flat();
  if (!all.length) return { edges: [], counts: finite.map(() => []) };
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const width = (hi - lo) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + i * width);
  const counts = finite.map((values) => {
    const c = new Array<number>(bins).fill(0);
    // The top edge belongs to the last bin.
    for (const v of values) c[Math.min(bins - 1, Math.floor((v - lo) / width))] += 1;
    return c;
  });
  return { edges, counts };
}
