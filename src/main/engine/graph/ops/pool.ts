// MaxPool, AveragePool, GlobalAveragePool. Padding and ceil_mode follow ONNX (as PyTorch exports
// them): max pooling pads with -inf, average pooling divides by the number of counted positions
// (with or without the padding, count_include_pad) computed from a mask, so borders are exact.
import * as tf from '@tensorflow/tfjs';
import { intAttr, nodeError, stringAttr, window2D, windowOutputSize, type Window2D } from '../attrs';
import type { GraphNode } from '../ir';
import { inputShape, padSpatial, positiveSize, tfPadding } from './common';
import { recordingGradients, whereEqual } from './pointwise';
import type { NodeCtx, OpDef } from './types';

function checkPool(ctx: NodeCtx): void {
  const node = ctx.node;
  const w = window2D(node, [ctx.shapes[0][2], ctx.shapes[0][3]]);
  if (w.dilations.some((d) => d !== 1)) throw nodeError(node, 'dilated pooling is not supported');
  for (const a of [0, 1]) {
    if (w.padsBegin[a] >= w.kernel[a] || w.padsEnd[a] >= w.kernel[a]) {
      throw nodeError(node, `pads [${w.padsBegin.join(', ')}, ${w.padsEnd.join(', ')}] must be smaller than the kernel`);
    }
  }
}

function ceilMode(ctx: NodeCtx): boolean {
  return intAttr(ctx.node, 'ceil_mode', 0) !== 0;
}

function inferPool(ctx: NodeCtx): number[] {
  const x = inputShape(ctx, 0, [4], 'the input');
  checkPool(ctx);
  const w = window2D(ctx.node, [x[2], x[3]]);
  const h = positiveSize(ctx, windowOutputSize(w, 0, x[2], ceilMode(ctx)), x[2], x[3]);
  return [x[0], x[1], h, positiveSize(ctx, windowOutputSize(w, 1, x[3], ceilMode(ctx)), x[2], x[3])];
}

/** The window for this input size, with the end padding grown so ceil_mode windows fit. */
function resolvedWindow(ctx: NodeCtx, inHW: [number, number]): { w: Window2D; extra: [number, number] } {
  const w = window2D(ctx.node, inHW);
  const extra: [number, number] = [0, 0];
  for (const a of [0, 1] as const) {
    const out = windowOutputSize(w, a, inHW[a], ceilMode(ctx));
    const needed = (out - 1) * w.strides[a] + w.kernel[a];
    extra[a] = Math.max(0, needed - (inHW[a] + w.padsBegin[a] + w.padsEnd[a]));
  }
  return { w: { ...w, padsEnd: [w.padsEnd[0] + extra[0], w.padsEnd[1] + extra[1]] }, extra };
}

function poolRF(ctx: NodeCtx) {
  const w = window2D(ctx.node, [ctx.shapes[0][2], ctx.shapes[0][3]]);
  const axis = (a: 0 | 1) => ({ kernel: w.kernel[a], stride: w.strides[a], dilation: 1, padBegin: w.padsBegin[a] });
  return { kind: 'window' as const, y: axis(0), x: axis(1) };
}

/**
 * Max pooling over non-overlapping windows (stride = kernel, no padding) whose gradient is routed
 * by comparison with each window's maximum: dy goes to the inputs equal to it. TF's MaxPoolGrad
 * searches every window again and took about a tenth of a VGG-19 diverse step; the comparison is
 * two or three elementwise kernels. Where a window holds its maximum twice, each copy gets dy
 * instead of the first only. Real-valued inputs tie only at exact zeros after a ReLU, and there
 * the ReLU's own gradient (zero at zero) clears them again.
 */
function tiledMaxPool(x: tf.Tensor4D, kernel: readonly [number, number]): tf.Tensor4D {
  const [kh, kw] = kernel;
  const pool = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor4D;
    const save = args[1] as tf.GradSaveFunc;
    const y = tf.maxPool(input, [kh, kw], [kh, kw], 'valid');
    save([input, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, [xs, ys]: tf.Tensor[]) => {
        const [n, h, w, c] = xs.shape;
        const [oh, ow] = [ys.shape[1]!, ys.shape[2]!];
        // The inputs the windows cover (floor mode leaves out a last row or column), as
        // [n, oh, kh, ow, kw, c] so a pooled value broadcasts over its window.
        const covered = oh * kh === h && ow * kw === w ? xs : tf.slice(xs, [0, 0, 0, 0], [n, oh * kh, ow * kw, c]);
        const windows = tf.reshape(covered, [n, oh, kh, ow, kw, c]);
        const spread = (t: tf.Tensor) => tf.reshape(t, [n, oh, 1, ow, 1, c]);
        const dx = tf.reshape(whereEqual(windows, spread(ys), spread(dy)), [n, oh * kh, ow * kw, c]);
        return covered === xs ? dx : tf.pad(dx, [[0, 0], [0, h - oh * kh], [0, w - ow * kw], [0, 0]]);
      },
    };
  });
  return pool(x) as tf.Tensor4D;
}

/**
 * The kernel of a pool whose windows tile its input at any size (kernel = stride, no padding,
 * floor mode), else null.
 */
export function tilingKernel(node: GraphNode): [number, number] | null {
  if (!['NOTSET', 'VALID'].includes(stringAttr(node, 'auto_pad', 'NOTSET')) || intAttr(node, 'ceil_mode', 0) !== 0) return null;
  const w = window2D(node, [1, 1]);
  const tiles = w.kernel.every((k, a) => k === w.strides[a]) && [...w.padsBegin, ...w.padsEnd].every((p) => p === 0) && w.dilations.every((d) => d === 1);
  return tiles ? w.kernel : null;
}

/** Max pooling over windows that tile the input (stride = kernel, no padding, floor mode). */
export function maxPoolTiles(x: tf.Tensor4D, kernel: readonly [number, number]): tf.Tensor4D {
  return recordingGradients() ? tiledMaxPool(x, kernel) : tf.maxPool(x, [kernel[0], kernel[1]], [kernel[0], kernel[1]], 'valid');
}

export const maxPool: OpDef = {
  infer: inferPool,
  compile(ctx) {
    const run = ([input]: tf.Tensor[]) => {
      let x = input as tf.Tensor4D;
      const inHW: [number, number] = [x.shape[1], x.shape[2]];
      const { w } = resolvedWindow(ctx, inHW);
      const mode = tfPadding(w, inHW);
      if (mode === 'valid' && w.kernel.every((k, a) => k === w.strides[a])) return maxPoolTiles(x, w.kernel);
      if (mode === 'explicit') x = padSpatial(x, w, -Infinity);
      return tf.maxPool(x, w.kernel, w.strides, mode === 'explicit' ? 'valid' : mode);
    };
    const tiles = tilingKernel(ctx.node);
    if (!tiles) return { inputs: [0], run };
    const [kh, kw] = tiles;
    return {
      inputs: [0],
      run,
      // A rectangle of the output pools the input tiles under it, and nothing else.
      region: (input) => {
        const x = input as tf.Tensor4D;
        const [n, h, w, c] = x.shape;
        return {
          shape: [n, Math.floor(h / kh), Math.floor(w / kw), c],
          cut: (lo, size) => run([tf.slice(x, [0, lo[0] * kh, lo[1] * kw, 0], [n, size[0] * kh, size[1] * kw, c])]),
        };
      },
    };
  },
  rf: poolRF,
};

export const averagePool: OpDef = {
  infer: inferPool,
  compile(ctx) {
    const includePad = intAttr(ctx.node, 'count_include_pad', 0) !== 0;
    return {
      inputs: [0],
      run: ([input]) => {
        const x = input as tf.Tensor4D;
        const inHW: [number, number] = [x.shape[1], x.shape[2]];
        const { w, extra } = resolvedWindow(ctx, inHW);
        const sum = tf.avgPool(padSpatial(x, w), w.kernel, w.strides, 'valid');
        // Positions that count towards the divisor: the input, plus the pads if asked for; the
        // extra end room of ceil_mode never counts.
        const counted = includePad
          ? { padsBegin: [0, 0], padsEnd: extra }
          : { padsBegin: w.padsBegin, padsEnd: w.padsEnd };
        if (counted.padsBegin.every((p) => p === 0) && counted.padsEnd.every((p) => p === 0)) return sum;
        const area: [number, number] = includePad
          ? [inHW[0] + w.padsBegin[0] + w.padsEnd[0] - extra[0], inHW[1] + w.padsBegin[1] + w.padsEnd[1] - extra[1]]
          : inHW;
        const mask = padSpatial(tf.ones([1, area[0], area[1], 1]), { ...w, ...counted } as Window2D);
        return tf.div(sum, tf.avgPool(mask, w.kernel, w.strides, 'valid'));
      },
    };
  },
  rf: poolRF,
};

export const globalAveragePool: OpDef = {
  infer(ctx) {
    const x = inputShape(ctx, 0, [4], 'the input');
    return [x[0], x[1], 1, 1];
  },
  compile: () => ({ inputs: [0], run: ([x]) => tf.mean(x, [1, 2], true) }),
  rf: () => ({ kind: 'global' }),
};
