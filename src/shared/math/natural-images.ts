// Stored natural-image statistics, the defaults when a run is given no images of its own
// (METHODS §2: template norm and Gaussian prior). Measured once from the 250 ImageNet sample
// images of the project's shared data (every 4th class of EliSchwartz/imagenet-sample-images),
// resized to a short side of 256 px, 2000 random patches per size (500 above 128 px), seed 1,
// with engine/fv/natural-images.ts. Pixels are RGB 0..255, so the numbers hold for every model:
// each model converts pixels with its own input convention.

/** RMS per pixel and channel of mean-subtracted natural patches, by patch side (px). */
export const NATURAL_PATCH_RMS: readonly (readonly [side: number, rms: number])[] = [
  [8, 18.06],
  [16, 24.58],
  [24, 29.01],
  [32, 32.65],
  [48, 38.57],
  [64, 42.97],
  [96, 49.16],
  [128, 52.65],
  [192, 56.68],
  [224, 57.77],
];

/** Power-law fit of the natural power spectrum: PSD(f) = amplitude * f^-exponent, f in cycles per pixel. */
export const NATURAL_SPECTRUM = { amplitude: 15.5, exponent: 2.6, mean: [125.5, 120.5, 107.5] as [number, number, number] };

/**
 * Mean L2 norm of mean-subtracted natural RGB patches of the given side, interpolated log-log in
 * the table above (extrapolated with the slope of the nearest segment).
 */
export function naturalPatchNorm(side: number): number {
  if (!(side >= 1)) throw new Error(`patch side must be at least 1 px, got ${side}`);
  const t = NATURAL_PATCH_RMS;
  let i = t.findIndex(([s]) => s >= side);
  if (i <= 0) i = i === 0 ? 1 : t.length - 1;
  const [s0, r0] = t[i - 1];
  const [s1, r1] = t[i];
  const slope = Math.log(r1 / r0) / Math.log(s1 / s0);
  const rms = r0 * (side / s0) ** slope;
  return rms * Math.sqrt(side * side * 3);
}

/** The template norm of METHODS §2: half the mean norm of natural patches of the same size. */
export function defaultTemplateNorm(side: number): number {
  return naturalPatchNorm(side) / 2;
}
