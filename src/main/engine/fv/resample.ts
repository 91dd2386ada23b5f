// Differentiable bilinear resampling written as four gathers with constant weights: the source
// position of every output pixel is computed in JS, so the only tensor ops are gather, mul and
// add, whose gradients every tfjs backend has (resizeBilinear's and rotation's do not, on all).
import * as tf from '@tensorflow/tfjs';

/** Maps an output pixel (row, column; centres at integers) to a source position. */
export type SourceMap = (y: number, x: number) => readonly [number, number];

/**
 * out[y, x] = bilinear interpolation of `images` at source(y, x); source points outside the image
 * read 0 (the corners a rotation exposes), matching kornia's zero padding.
 */
export function resample(images: tf.Tensor4D, outHeight: number, outWidth: number, source: SourceMap): tf.Tensor4D {
  const [n, h, w, c] = images.shape;
  const count = outHeight * outWidth;
  const idx = [0, 1, 2, 3].map(() => new Int32Array(count));
  const wts = [0, 1, 2, 3].map(() => new Float32Array(count));
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      const [sy, sx] = source(y, x);
      const y0 = Math.floor(sy);
      const x0 = Math.floor(sx);
      const fy = sy - y0;
      const fx = sx - x0;
      const o = y * outWidth + x;
      const corners = [
        [y0, x0, (1 - fy) * (1 - fx)],
        [y0, x0 + 1, (1 - fy) * fx],
        [y0 + 1, x0, fy * (1 - fx)],
        [y0 + 1, x0 + 1, fy * fx],
      ] as const;
      corners.forEach(([cy, cx, wt], k) => {
        const inside = cy >= 0 && cy < h && cx >= 0 && cx < w;
        idx[k][o] = inside ? cy * w + cx : 0;
        wts[k][o] = inside ? wt : 0;
      });
    }
  }
  return tf.tidy(() => {
    const flat = tf.reshape(images, [n, h * w, c]);
    let out: tf.Tensor | null = null;
    for (let k = 0; k < 4; k++) {
      const term = tf.mul(tf.gather(flat, tf.tensor1d(idx[k], 'int32'), 1), tf.tensor3d(wts[k], [1, count, 1]));
      out = out ? tf.add(out, term) : term;
    }
    return tf.reshape(out!, [n, outHeight, outWidth, c]) as tf.Tensor4D;
  });
}

/** Source coordinate of output index i when a side of `from` pixels becomes `to` (half-pixel centres). */
export function resizedSource(i: number, from: number, to: number): number {
  const s = ((i + 0.5) * from) / to - 0.5;
  // Edge pixels replicate rather than fade towards the zero outside.
  return Math.min(Math.max(s, 0), from - 1);
}

/** Bilinear resize (no antialiasing), edges clamped. */
export function resize(images: tf.Tensor4D, height: number, width: number): tf.Tensor4D {
  const [, h, w] = images.shape;
  return resample(images, height, width, (y, x) => [resizedSource(y, h, height), resizedSource(x, w, width)]);
}

/** Rotation by `degrees` (counter-clockwise on screen) about the image centre, same size. */
export function rotate(images: tf.Tensor4D, degrees: number): tf.Tensor4D {
  const [, h, w] = images.shape;
  const a = (degrees * Math.PI) / 180;
  const cos = Math.cos(a);
  const sin = Math.sin(a);
  const cy = (h - 1) / 2;
  const cx = (w - 1) / 2;
  // Inverse map: rotate the output position back by -a to find where it came from.
  return resample(images, h, w, (y, x) => {
    const dy = y - cy;
    const dx = x - cx;
    return [cy + cos * dy - sin * dx, cx + sin * dy + cos * dx];
  });
}

/**
 * The zoom S of METHODS §7: the central crop of half the side (offset floor(side / 4)), resized
 * back to the full side with bilinear interpolation.
 */
export function zoomCentre(images: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = images.shape;
    const ch = Math.floor(h / 2);
    const cw = Math.floor(w / 2);
    const crop = tf.slice(images, [0, Math.floor((h - ch) / 2), Math.floor((w - cw) / 2), 0], [n, ch, cw, c]) as tf.Tensor4D;
    return resize(crop, h, w);
  });
}
