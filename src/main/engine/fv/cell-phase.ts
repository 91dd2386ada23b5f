// Phase read-out for the built-in Gabor cell models (METHODS §3): each image's phase relative
// to the model's quadrature pair, atan2(<g90, x>, <g0, x>), on the grey deviation from the mean
// pixel the cells see.
import { CELL_CONVENTION, type CellKind } from '../../../shared/builtin-models';
import { gabor, gaborPhaseDeg } from '../../../shared/math/gabor';
import { DEFAULT_CELL_PARAMS, type CellParams } from '../models/ground-truth';

/** Cell models built on one Gabor quadrature pair at the RF centre (the corner model is not). */
export const PHASE_CELLS: readonly CellKind[] = ['simple-cell', 'energy', 'complex-cell'];

/**
 * Phase in degrees (0..360) of each image of `pixels` (RGB 0..255, NHWC, `count` images of
 * side x side, side = the cell's RF).
 */
export function cellPhasesDeg(pixels: ArrayLike<number>, count: number, side: number, params: CellParams = DEFAULT_CELL_PARAMS): number[] {
  if (side !== params.rf) throw new Error(`phase read-out: images are ${side} px but the cell's RF is ${params.rf} px`);
  const g = (phase: number) => gabor({ size: side, ...params.gabor, phase });
  const g0 = g(0);
  const g90 = g(90);
  const mean = CELL_CONVENTION.mean.reduce((a, b) => a + b, 0) / 3;
  const n = side * side;
  const phases: number[] = [];
  for (let b = 0; b < count; b++) {
    const grey = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const o = (b * n + i) * 3;
      grey[i] = (pixels[o] + pixels[o + 1] + pixels[o + 2]) / 3 - mean;
    }
    phases.push(gaborPhaseDeg(grey, g0, g90));
  }
  return phases;
}
