// Numbers of the diverse-visualization analysis that need no tensors (METHODS §2, §3): the lambda
// sweep, the lambda* rule, the diversity ratio and the circular statistics of cell-model phases.

/** lambda = 0, then 0.02 doubling up to 20.48 (11 non-zero values). */
export const DEFAULT_LAMBDAS: readonly number[] = [0, ...Array.from({ length: 11 }, (_, k) => 0.02 * 2 ** k)].map(
  (v) => Math.round(v * 1e6) / 1e6,
);

export interface LambdaChoice {
  /** Index into the sweep of lambda*. */
  index: number;
  lambda: number;
  /** The activation bound tau * a(0) that lambda* had to reach. */
  threshold: number;
}

/**
 * lambda*: the largest lambda whose mean activation is at least tau * a(0). The sweep must start
 * at lambda = 0 (a(0) is the reference); lambda = 0 itself always qualifies.
 */
export function chooseLambdaStar(lambdas: readonly number[], activations: readonly number[], tau: number): LambdaChoice {
  if (lambdas.length === 0 || lambdas.length !== activations.length) {
    throw new Error(`lambda*: ${lambdas.length} lambdas but ${activations.length} activations`);
  }
  if (lambdas[0] !== 0) throw new Error(`lambda*: the sweep must start at lambda = 0, not ${lambdas[0]}`);
  const threshold = tau * activations[0];
  let index = 0;
  for (let i = 1; i < lambdas.length; i++) {
    if (activations[i] >= threshold && lambdas[i] > lambdas[index]) index = i;
  }
  return { index, lambda: lambdas[index], threshold };
}

/** D(lambda*) / D(0); null when D(0) is zero (the images at lambda = 0 coincide exactly). */
export function diversityRatio(distanceAtStar: number, distanceAtZero: number): number | null {
  return distanceAtZero > 0 ? distanceAtStar / distanceAtZero : null;
}

/** Degrees taken to 0..360. */
function wrap(deg: number): number {
  return ((deg % 360) + 360) % 360;
}

/** The largest gap between neighbouring angles on the circle, degrees (360 for one angle). */
export function largestCircularGap(anglesDeg: readonly number[]): number {
  if (anglesDeg.length === 0) throw new Error('largestCircularGap: no angles');
  const a = anglesDeg.map(wrap).sort((x, y) => x - y);
  let gap = a[0] + 360 - a[a.length - 1];
  for (let i = 1; i < a.length; i++) gap = Math.max(gap, a[i] - a[i - 1]);
  return gap;
}

/** The most angles that fit in one arc of the given width (degrees) on the circle. */
export function largestClusterWithin(anglesDeg: readonly number[], widthDeg: number): number {
  const a = anglesDeg.map(wrap);
  let best = 0;
  for (const start of a) {
    const inArc = a.filter((v) => wrap(v - start) <= widthDeg + 1e-9).length;
    best = Math.max(best, inArc);
  }
  return best;
}
