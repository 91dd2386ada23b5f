// Translation invariance of shape selectivity (METHODS §10): position sweeps, the TI index, the
// RF profile and the position-correlation profile. Pure TypeScript.
//
// Responses of a sweep are one array laid out [position, stimulus, unit] (unit fastest), the
// layout a layer's output gives when the stimuli at one position form a batch.

export type SweepDirection = 'horizontal' | 'vertical' | '2d';

export interface SweepPosition {
  /** Where the stimulus centroid goes, pixel-index coordinates. */
  x: number;
  y: number;
  /** Offset from the sweep centre, pixels. */
  dx: number;
  dy: number;
}

export interface SweepOptions {
  /** The unit's RF centre, pixel-index coordinates. */
  centre: { x: number; y: number };
  /** Distance between neighbouring positions (METHODS default 2 px). */
  step: number;
  /** Offsets go from -halfSpan to +halfSpan (rounded down to whole steps). */
  halfSpan: number;
  direction: SweepDirection;
}

/**
 * Positions along a horizontal or vertical line through the centre, or on a square grid
 * (2-D, rows of constant dy), symmetric about the centre, which is always included.
 */
export function positionSweep(o: SweepOptions): SweepPosition[] {
  if (!(o.step > 0)) throw new Error(`sweep step must be positive, got ${o.step}`);
  if (!(o.halfSpan >= 0)) throw new Error(`sweep half-span must be >= 0, got ${o.halfSpan}`);
  const n = Math.floor(o.halfSpan / o.step + 1e-9);
  const offsets = Array.from({ length: 2 * n + 1 }, (_, i) => (i - n) * o.step);
  const at = (dx: number, dy: number): SweepPosition => ({ x: o.centre.x + dx, y: o.centre.y + dy, dx, dy });
  switch (o.direction) {
    case 'horizontal':
      return offsets.map((d) => at(d, 0));
    case 'vertical':
      return offsets.map((d) => at(0, d));
    case '2d':
      return offsets.flatMap((dy) => offsets.map((dx) => at(dx, dy)));
    default:
      throw new Error(`unknown sweep direction "${String(o.direction)}"`);
  }
}

/** How far the stimuli reach from their centroid (pixels), e.g. setReach in shapes.ts. */
export interface Reach {
  left: number;
  right: number;
  up: number;
  down: number;
}

/**
 * For each position, whether every stimulus lies wholly inside the square RF of side `rfSize`
 * centred at `centre` (the RF covers pixel-index coordinates centre ± rfSize / 2).
 */
export function insideRf(positions: readonly SweepPosition[], reach: Reach, centre: { x: number; y: number }, rfSize: number): boolean[] {
  const h = rfSize / 2;
  const eps = 1e-9;
  return positions.map(
    (p) =>
      p.x - reach.left >= centre.x - h - eps &&
      p.x + reach.right <= centre.x + h + eps &&
      p.y - reach.up >= centre.y - h - eps &&
      p.y + reach.down <= centre.y + h + eps,
  );
}

export interface SweepResponses {
  /** [position, stimulus, unit], unit fastest. */
  data: ArrayLike<number>;
  positions: number;
  stimuli: number;
  units: number;
}

function check(r: SweepResponses, keep?: readonly boolean[]): void {
  const { positions: k, stimuli: s, units: u } = r;
  if (r.data.length !== k * s * u) throw new Error(`sweep responses have ${r.data.length} values, expected ${k} positions x ${s} stimuli x ${u} units`);
  if (keep && keep.length !== k) throw new Error(`keep mask has ${keep.length} entries for ${k} positions`);
}

/**
 * TI per unit: with r_k the unit's responses over stimuli at kept position k, centred over
 * stimuli, TI = sum_{k<l} r_k . r_l / sum_{k<l} |r_k| |r_l|. The pairwise sums come from
 * sum_{k<l} r_k . r_l = (|sum_k r_k|^2 - sum_k |r_k|^2) / 2 and the same for the norms, so the
 * cost is O(positions x stimuli) per unit. Subtracting the blank response (METHODS) leaves TI
 * unchanged: a constant over stimuli cancels in the centring. NaN with fewer than two kept
 * positions or no response variation.
 */
export function translationInvariance(r: SweepResponses, keep?: readonly boolean[]): Float64Array {
  check(r, keep);
  const { positions: K, stimuli: S, units: U, data } = r;
  const sum = new Float64Array(S * U); // sum over kept positions of centred responses
  const sumSq = new Float64Array(U); // sum over kept positions of |r_k|^2
  const sumNorm = new Float64Array(U); // sum over kept positions of |r_k|
  const mean = new Float64Array(U);
  const sq = new Float64Array(U);
  let kept = 0;
  for (let k = 0; k < K; k++) {
    if (keep && !keep[k]) continue;
    kept++;
    const base = k * S * U;
    mean.fill(0);
    for (let s = 0; s < S; s++) for (let u = 0; u < U; u++) mean[u] += data[base + s * U + u];
    for (let u = 0; u < U; u++) mean[u] /= S;
    sq.fill(0);
    for (let s = 0; s < S; s++) {
      for (let u = 0; u < U; u++) {
        const v = data[base + s * U + u] - mean[u];
        sum[s * U + u] += v;
        sq[u] += v * v;
      }
    }
    for (let u = 0; u < U; u++) {
      sumSq[u] += sq[u];
      sumNorm[u] += Math.sqrt(sq[u]);
    }
  }
  const ti = new Float64Array(U);
  for (let u = 0; u < U; u++) {
    let total = 0;
    for (let s = 0; s < S; s++) total += sum[s * U + u] ** 2;
    const num = (total - sumSq[u]) / 2;
    const den = (sumNorm[u] ** 2 - sumSq[u]) / 2;
    ti[u] = kept >= 2 && den > 0 ? num / den : NaN;
  }
  return ti;
}

/**
 * RF profile per unit: at each position the root of the summed squared blank-subtracted
 * responses over stimuli, divided by its maximum over positions. Layout [unit, position].
 */
export function rfProfile(r: SweepResponses, blank: ArrayLike<number>): Float64Array {
  check(r);
  const { positions: K, stimuli: S, units: U, data } = r;
  if (blank.length !== U) throw new Error(`blank responses have ${blank.length} values for ${U} units`);
  const out = new Float64Array(U * K);
  for (let k = 0; k < K; k++) {
    for (let s = 0; s < S; s++) {
      const base = (k * S + s) * U;
      for (let u = 0; u < U; u++) out[u * K + k] += (data[base + u] - blank[u]) ** 2;
    }
  }
  for (let u = 0; u < U; u++) {
    let max = 0;
    for (let k = 0; k < K; k++) max = Math.max(max, (out[u * K + k] = Math.sqrt(out[u * K + k])));
    if (max > 0) for (let k = 0; k < K; k++) out[u * K + k] /= max;
  }
  return out;
}

/**
 * Position-correlation profile per unit: the Pearson correlation over stimuli of the responses
 * at each position with those at position `centre` (the RF centre). Layout [unit, position];
 * NaN where either side does not vary.
 */
export function positionCorrelationProfile(r: SweepResponses, centre: number): Float64Array {
  check(r);
  const { positions: K, stimuli: S, units: U, data } = r;
  if (!(Number.isInteger(centre) && centre >= 0 && centre < K)) throw new Error(`centre position ${centre} is not one of the ${K} positions`);
  const at = (k: number, s: number, u: number) => data[(k * S + s) * U + u];
  const out = new Float64Array(U * K);
  for (let u = 0; u < U; u++) {
    let mc = 0;
    for (let s = 0; s < S; s++) mc += at(centre, s, u) / S;
    for (let k = 0; k < K; k++) {
      let m = 0;
      for (let s = 0; s < S; s++) m += at(k, s, u) / S;
      let ab = 0;
      let aa = 0;
      let bb = 0;
      for (let s = 0; s < S; s++) {
        const a = at(k, s, u) - m;
        const b = at(centre, s, u) - mc;
        ab += a * b;
        aa += a * a;
        bb += b * b;
      }
      out[u * K + k] = aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : NaN;
    }
  }
  return out;
}
