// Differentiable bilinear resampling written as gathers with constant weights: the source position
// of every output pixel is computed in JS. The gradient (the adjoint map, a scatter) is also
// written as gathers, from precomputed per-input-pixel lists, because tfjs's own gather gradient
// needs UnsortedSegmentSum, which the wasm backend lacks (and resizeBilinear's and rotation's
// gradients are missing on some backends too).
import * as tf from '@tensorflow/tfjs';

/** Maps an output pixel (row, column; centres at integers) to a source position. */
export type SourceMap = (y: number, x: number) => readonly [number, number];

/** A sparse linear map between flattened images as K gathers: out[o] = sum_k w[k][o] * in[idx[k][o]]. */
interface GatherMap {
  idx: Int32Array[];
  wts: Float32Array[];
}

function applyMap(flat: tf.Tensor3D, map: GatherMap): tf.Tensor3D {
  const count = map.idx[0]?.length ?? 0;
  let out: tf.Tensor | null = null;
  map.idx.forEach((idx, k) => {
    const term = tf.mul(tf.gather(flat, tf.tensor1d(idx, 'int32'), 1), tf.tensor3d(map.wts[k], [1, count, 1]));
    out = out ? tf.add(out, term) : term;
  });
  return out! as tf.Tensor3D;
}

/** The adjoint of a gather map: every input pixel gathers the outputs that read it. */
function adjoint(map: GatherMap, inputs: number): GatherMap {
  const lists: [number, number][][] = Array.from({ length: inputs }, () => []);
  map.idx.forEach((idx, k) => idx.forEach((i, o) => map.wts[k][o] !== 0 && lists[i].push([o, map.wts[k][o]])));
  const depth = Math.max(1, ...lists.map((l) => l.length));
  const idx = Array.from({ length: depth }, () => new Int32Array(inputs));
  const wts = Array.from({ length: depth }, () => new Float32Array(inputs));
  lists.forEach((l, i) => l.forEach(([o, w], j) => ((idx[j][i] = o), (wts[j][i] = w))));
  return { idx, wts };
}

/**
 * out[y, x] = bilinear interpolation of `images` at source(y, x); source points outside the image
 * read 0 (the corners a rotation exposes), matching kornia's zero padding.
 */
export function resample(images: tf.Tensor4D, outHeight: number, outWidth: number, source: SourceMap): tf.Tensor4D {
  const [n, h, w, c] = images.shape;
  const count = outHeight * outWidth;
  const map: GatherMap = { idx: [0, 1, 2, 3].map(() => new Int32Array(count)), wts: [0, 1, 2, 3].map(() => new Float32Array(count)) };
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
        map.idx[k][o] = inside ? cy * w + cx : 0;
        map.wts[k][o] = inside ? wt : 0;
      });
    }
  }
  const back = adjoint(map, h * w);
  const run = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.reshape(applyMap(tf.reshape(args[0] as tf.Tensor, [n, h * w, c]), map), [n, outHeight, outWidth, c]),
    gradFunc: (dy: tf.Tensor) => tf.reshape(applyMap(tf.reshape(dy, [n, count, c]), back), [n, h, w, c]),
  }));
  return run(images) as tf.Tensor4D;
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

/** Rotation by `degrees` about the image centre (clockwise on screen, y pointing down), same size. */
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
