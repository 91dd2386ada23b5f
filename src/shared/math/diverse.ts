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
  /** The bound every single image had to reach (imageFraction * a(0)); null without the per-image condition. */
  imageThreshold: number | null;
}

/**
 * The per-image condition of lambda*: the lowest activation among a lambda's n images must reach
 * `fraction` * a(0). `lowest[i]` belongs to lambdas[i]; a missing entry (a run stored before the
 * condition existed) counts as met.
 */
export interface PerImageCondition {
  lowest: readonly number[];
  fraction: number;
}

/** Whether lambda index i qualifies as lambda*: mean a(lambda) >= tau a(0) and, when given, every image >= fraction a(0). */
export function qualifiesForLambdaStar(i: number, activations: readonly number[], tau: number, perImage?: PerImageCondition): boolean {
  if (i === 0) return true;
  const a0 = activations[0];
  if (!(activations[i] >= tau * a0)) return false;
  const lowest = perImage?.lowest[i];
  return perImage === undefined || lowest === undefined || lowest >= perImage.fraction * a0;
}

/**
 * lambda*: the largest lambda whose mean activation is at least tau * a(0) and, with a per-image
 * condition, whose every image reaches fraction * a(0) (the mean rule alone lets one of n images
 * die: with tau 0.8 and n = 6, five images at a(0) carry a sixth at zero). The sweep must start at
 * lambda = 0 (a(0) is the reference); lambda = 0 itself always qualifies.
 */
export function chooseLambdaStar(lambdas: readonly number[], activations: readonly number[], tau: number, perImage?: PerImageCondition): LambdaChoice {
  if (lambdas.length === 0 || lambdas.length !== activations.length) {
    throw new Error(`lambda*: ${lambdas.length} lambdas but ${activations.length} activations`);
  }
  if (lambdas[0] !== 0) throw new Error(`lambda*: the sweep must start at lambda = 0, not ${lambdas[0]}`);
  const threshold = tau * activations[0];
  let index = 0;
  for (let i = 1; i < lambdas.length; i++) {
    if (qualifiesForLambdaStar(i, activations, tau, perImage) && lambdas[i] > lambdas[index]) index = i;
  }
  return { index, lambda: lambdas[index], threshold, imageThreshold: perImage ? perImage.fraction * activations[0] : null };
}

/** D(lambda*) / D(0), raw; null when D(0) is zero (the images at lambda = 0 coincide exactly). */
export function diversityRatio(distanceAtStar: number, distanceAtZero: number): number | null {
  return distanceAtZero > 0 ? distanceAtStar / distanceAtZero : null;
}

/**
 * D(lambda*) / D(0) with both distances counted at least as `floor`: max(D(lambda*), F) /
 * max(D(0), F). Images closer than F count as collapsed, so the ratio says how much more diverse
 * the lambda* images are than the lambda = 0 ones on the scale the distance resolves, instead of
 * how tightly the optimizer made collapsed images coincide (D(0) near 1e-6 gave ratios of 1e6).
 * It is 1 when both sets are collapsed and never below 1 when D(lambda*) >= D(0). A floor that is
 * not positive (or unknown) gives the raw ratio.
 */
export function flooredDiversityRatio(distanceAtStar: number, distanceAtZero: number, floor: number | null): number | null {
  if (floor === null || !(floor > 0)) return diversityRatio(distanceAtStar, distanceAtZero);
  return Math.max(distanceAtStar, floor) / Math.max(distanceAtZero, floor);
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
