// BatchNormalization (inference form, folded once into a per-channel scale and shift), LRN and
// LayerNormalization.
import * as tf from '@tensorflow/tfjs';
import { floatAttr, intAttr, nodeError } from '../attrs';
import { liftToRank4, runtimeAxis } from '../layout';
import { broadcastShapes, floatConstant, inputShape } from './common';
import { ANY_RANK, normAxis } from './structure';
import type { NodeCtx, OpDef } from './types';

/** Inference-mode batch norm as y = x * scale + shift, per channel. */
export function batchNormAffine(ctx: NodeCtx): { scale: Float32Array; shift: Float32Array } {
  const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((i) => floatConstant(ctx, i, 'BN parameter').data);
  const eps = floatAttr(ctx.node, 'epsilon', 1e-5);
  const scale = new Float32Array(gamma.length);
  const shift = new Float32Array(gamma.length);
  for (let c = 0; c < gamma.length; c++) {
    const s = gamma[c] / Math.sqrt(variance[c] + eps);
    scale[c] = s;
    shift[c] = beta[c] - mean[c] * s;
  }
  return { scale, shift };
}

export const batchNormalization: OpDef = {
  infer(ctx) {
    const x = inputShape(ctx, 0, [2, 4], 'the input');
    if (intAttr(ctx.node, 'training_mode', 0) !== 0) throw nodeError(ctx.node, 'training mode is not supported');
    ['scale', 'bias', 'mean', 'variance'].forEach((what, k) => floatConstant(ctx, k + 1, `the ${what}`, [x[1]]));
    return [...x];
  },
  compile(ctx, own) {
    const { scale, shift } = batchNormAffine(ctx);
    // Channels are the last stored axis for both [N, C] and NHWC inputs.
    const s = own(tf.tensor1d(scale));
    const b = own(tf.tensor1d(shift));
    return { inputs: [0], run: ([x]) => tf.add(tf.mul(x, s), b) };
  },
  rf: () => ({ kind: 'pointwise' }),
};

export const lrn: OpDef = {
  infer(ctx) {
    const x = inputShape(ctx, 0, [4], 'the input');
    const size = intAttr(ctx.node, 'size');
    if (size < 1 || size > 4096) throw nodeError(ctx.node, `size ${size} is out of range`);
    return [...x];
  },
  compile(ctx) {
    const size = intAttr(ctx.node, 'size');
    const alpha = floatAttr(ctx.node, 'alpha', 1e-4);
    const beta = floatAttr(ctx.node, 'beta', 0.75);
    const bias = floatAttr(ctx.node, 'bias', 1);
    // ONNX sums squares over channels c - floor((size-1)/2) .. c + ceil((size-1)/2).
    const before = Math.floor((size - 1) / 2);
    const after = size - 1 - before;
    return {
      inputs: [0],
      run: ([x]) => {
        const c = x.shape[3] as number;
        const sq = tf.pad(tf.square(x), [[0, 0], [0, 0], [0, 0], [before, after]]);
        let sum = tf.slice(sq, [0, 0, 0, 0], [-1, -1, -1, c]);
        for (let k = 1; k < size; k++) sum = tf.add(sum, tf.slice(sq, [0, 0, 0, k], [-1, -1, -1, c]));
        return tf.div(x, tf.pow(tf.add(tf.mul(sum, alpha / size), bias), beta));
      },
    };
  },
  rf: () => ({ kind: 'pointwise' }),
};

function layerNormAxis(ctx: NodeCtx): number {
  return normAxis(ctx, intAttr(ctx.node, 'axis', -1), ctx.shapes[0].length);
}

/** Normalizes over the axes from `axis` on (ViT and ConvNeXt: the channels), then scales and shifts. */
export const layerNormalization: OpDef = {
  infer(ctx) {
    const x = inputShape(ctx, 0, ANY_RANK, 'the input');
    const normalized = x.slice(layerNormAxis(ctx));
    for (const [i, what] of [[1, 'scale'], [2, 'bias']] as const) {
      if (i === 2 && !ctx.has(2)) continue;
      const p = floatConstant(ctx, i, `the ${what}`).shape;
      const b = broadcastShapes(normalized, p);
      if (!b || b.length !== normalized.length || b.some((d, k) => d !== normalized[k])) {
        throw nodeError(ctx.node, `the ${what} [${p.join(', ')}] does not broadcast to the normalized shape [${normalized.join(', ')}]`);
      }
    }
    return [...x];
  },
  compile(ctx, own) {
    const rank = ctx.shapes[0].length;
    const axis = layerNormAxis(ctx);
    const eps = floatAttr(ctx.node, 'epsilon', 1e-5);
    const stored = Array.from({ length: rank - axis }, (_, k) => runtimeAxis(axis + k, rank));
    // Scale and bias align with the trailing logical axes; for rank 4 they are lifted to NHWC.
    const param = (i: number) => {
      const c = floatConstant(ctx, i, 'a parameter');
      return own(tf.tidy(() => {
        const t = tf.tensor(c.data, c.shape, 'float32');
        return rank === 4 ? liftToRank4(t) : t;
      }));
    };
    const scale = param(1);
    const bias = ctx.has(2) ? param(2) : undefined;
    return {
      inputs: [0],
      run: ([x]) => {
        const { mean, variance } = tf.moments(x, stored, true);
        const y = tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), scale);
        return bias ? tf.add(y, bias) : y;
      },
    };
  },
  // Over (at least) the last axis: for a rank-4 NCHW tensor that spans W, so units see everything.
  rf: () => ({ kind: 'global' }),
  // On a permuted map (ConvNeXt: [N, H, W, C], axis -1) it may span channels only.
  rfPermuted: (ctx, spatial) => (spatial.every((a) => a < layerNormAxis(ctx)) ? { kind: 'pointwise' } : { kind: 'global' }),
};
