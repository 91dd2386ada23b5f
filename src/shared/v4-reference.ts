// The V4 reference the shape views compare layers with (METHODS §10): the shipped APC fits of
// 109 V4 neurons, and the best published V4 values as one mark. No per-neuron V4 TI exists, so
// the TI side of the comparison is that mark alone.
import type { V4Fit } from './math/apc';

/** Best V4 values reported (TI and APC r come from two different recorded populations). */
export const V4_BEST_REPORTED = { ti: 0.97, apcR: 0.8 } as const;

export interface V4Reference {
  fits: V4Fit[];
  bestReported: typeof V4_BEST_REPORTED;
  /** Where the fits come from, in words. */
  source: string;
}

/** The APC boundary points of all 370 stimuli, per stimulus [angle (rad), curvature] pairs. */
export interface ApcPointsReference {
  stimuli: [number, number][][];
}
