// The SI–LC scatter (METHODS §4-5: shift invariance against linear combination, one point per
// unit) as both the run view (ECharts) and the figure builder (SVG) draw it: the axis titles and
// the axis range, so the two charts agree.

export const SI_LC_AXIS_TITLES = { x: 'shift invariance SI', y: 'linear combination LC' } as const;

/** An axis from 0 to 1 that widens to hold every value, with round ticks. */
export function siLcAxis(values: number[]): { lo: number; hi: number; ticks: number[] } {
  const lo0 = Math.min(0, ...values);
  const hi0 = Math.max(1, ...values);
  const raw = (hi0 - lo0) / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const lo = Math.floor(lo0 / step) * step;
  const hi = Math.ceil(hi0 / step) * step;
  const ticks: number[] = [];
  for (let t = lo; t <= hi + step / 2; t += step) ticks.push(Math.round(t / step) * step);
  return { lo, hi, ticks };
}
