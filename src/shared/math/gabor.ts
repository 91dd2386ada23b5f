// Gabor filters and phase read-out for the ground-truth cell models (METHODS §3).

export interface GaborParams {
  /** Side of the square filter in pixels. */
  size: number;
  /** Orientation of the carrier's wave vector, degrees (0: vertical stripes). */
  thetaDeg: number;
  cyclesPerPixel: number;
  /** Gaussian envelope standard deviation in pixels. */
  sigma: number;
  phase: number; // degrees
  /** Envelope centre relative to the filter centre, pixels. */
  centerX?: number;
  centerY?: number;
}

/** Row-major size*size Gabor, unit L2 norm so responses of different filters compare. */
export function gabor(p: GaborParams): Float32Array {
  const out = new Float32Array(p.size * p.size);
  const c = (p.size - 1) / 2;
  const th = (p.thetaDeg * Math.PI) / 180;
  const ph = (p.phase * Math.PI) / 180;
  const cx = c + (p.centerX ?? 0);
  const cy = c + (p.centerY ?? 0);
  let norm = 0;
  for (let y = 0; y < p.size; y++) {
    for (let x = 0; x < p.size; x++) {
      const dx = x - cx;
      const dy = y - cy;
      const u = dx * Math.cos(th) + dy * Math.sin(th);
      const env = Math.exp(-(dx * dx + dy * dy) / (2 * p.sigma * p.sigma));
      const v = env * Math.cos(2 * Math.PI * p.cyclesPerPixel * u + ph);
      out[y * p.size + x] = v;
      norm += v * v;
    }
  }
  const s = 1 / Math.sqrt(norm);
  for (let i = 0; i < out.length; i++) out[i] *= s;
  return out;
}

/** Phase of an image patch relative to a quadrature pair: atan2(<g90, x>, <g0, x>), degrees 0..360. */
export function gaborPhaseDeg(patch: ArrayLike<number>, g0: ArrayLike<number>, g90: ArrayLike<number>): number {
  let a = 0;
  let b = 0;
  for (let i = 0; i < patch.length; i++) {
    a += g0[i] * patch[i];
    b += g90[i] * patch[i];
  }
  const deg = (Math.atan2(b, a) * 180) / Math.PI;
  return deg < 0 ? deg + 360 : deg;
}
