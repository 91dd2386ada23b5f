// The random transforms applied to the images at every optimization step (METHODS §6, the Lucid
// "standard transforms"): pad, jitter, scale, rotate, jitter. A visualization that survives them
// is a feature of the unit rather than an adversarial pattern tied to exact pixel positions.
import * as tf from '@tensorflow/tfjs';
import { resize, rotate } from './resample';

export interface TransformSettings {
  /** Constant padding on every side, px (0: none). */
  pad: number;
  /** Value of the padding, 0..1 of the pixel range (0.5: grey). */
  padValue: number;
  /** First jitter: a random crop that is this many px smaller (0: none). */
  jitter: number;
  /** Scale factors one is drawn from each step. */
  scales: readonly number[];
  /** Rotation angles in degrees one is drawn from each step (repeats weight an angle). */
  rotations: readonly number[];
  /** Second, fine jitter, px. */
  jitterFine: number;
}

export type Transform = (images: tf.Tensor4D, rand: () => number) => tf.Tensor4D;

const pick = <T>(xs: readonly T[], rand: () => number): T => xs[Math.min(xs.length - 1, Math.floor(rand() * xs.length))];

export function padConstant(px: number, value: number): Transform {
  return (x) => (px > 0 ? tf.pad(x, [[0, 0], [px, px], [px, px], [0, 0]], value) : x);
}

/** A random crop `d` px smaller in each direction (offset uniform in 0..d). */
export function jitter(d: number): Transform {
  return (x, rand) => {
    if (d <= 0) return x;
    const [n, h, w, c] = x.shape;
    if (h <= d || w <= d) throw new Error(`jitter of ${d} px does not fit a ${h} x ${w} image`);
    const dy = Math.floor(rand() * (d + 1));
    const dx = Math.floor(rand() * (d + 1));
    return tf.slice(x, [0, dy, dx, 0], [n, h - d, w - d, c]);
  };
}

export function randomScale(scales: readonly number[]): Transform {
  return (x, rand) => {
    if (scales.length === 0) return x;
    const s = pick(scales, rand);
    const [, h, w] = x.shape;
    const oh = Math.max(1, Math.round(h * s));
    const ow = Math.max(1, Math.round(w * s));
    return oh === h && ow === w ? x : resize(x, oh, ow);
  };
}

export function randomRotate(degrees: readonly number[]): Transform {
  return (x, rand) => {
    if (degrees.length === 0) return x;
    const a = pick(degrees, rand);
    return a === 0 ? x : rotate(x, a);
  };
}

/** The stack in METHODS order, for pixels in 0..255. */
export function transformStack(s: TransformSettings): Transform[] {
  return [padConstant(s.pad, s.padValue * 255), jitter(s.jitter), randomScale(s.scales), randomRotate(s.rotations), jitter(s.jitterFine)];
}

export function applyTransforms(stack: readonly Transform[], images: tf.Tensor4D, rand: () => number): tf.Tensor4D {
  return tf.tidy(() => stack.reduce((x, t) => t(x, rand), images));
}

/** Smallest image side the stack can produce (at the smallest scale), to check a layer still fits. */
export function smallestTransformedSide(side: number, s: TransformSettings): number {
  const minScale = s.scales.length ? Math.min(...s.scales) : 1;
  return Math.round((side + 2 * s.pad - s.jitter) * minScale) - s.jitterFine;
}
