// Gemm and MatMul, in logical layout (a rank-4 operand is turned back to NCHW first).
import * as tf from '@tensorflow/tfjs';
import { floatAttr, intAttr, nodeError } from '../attrs';
import { fromLogical, toLogical } from '../layout';
import { broadcastShapes, inputShape } from './common';
import type { NodeCtx, OpDef } from './types';

function constantTensor(ctx: NodeCtx, i: number): tf.Tensor | undefined {
  const c = ctx.constant(i);
  if (c && c.dtype !== 'float32') throw nodeError(ctx.node, `input ${i} must hold floats`);
  return c ? tf.tensor(c.data as Float32Array, c.shape, 'float32') : undefined;
}

export const gemm: OpDef = {
  infer(ctx) {
    const a = inputShape(ctx, 0, [2], 'A');
    const b = inputShape(ctx, 1, [2], 'B');
    const [m, k] = intAttr(ctx.node, 'transA', 0) ? [a[1], a[0]] : a;
    const [k2, n] = intAttr(ctx.node, 'transB', 0) ? [b[1], b[0]] : b;
    if (k !== k2) throw nodeError(ctx.node, `A [${a.join(', ')}] and B [${b.join(', ')}] do not multiply`);
    if (ctx.has(2)) {
      const c = inputShape(ctx, 2, [0, 1, 2], 'C');
      const out = broadcastShapes([m, n], c);
      if (!out || out[0] !== m || out[1] !== n) throw nodeError(ctx.node, `C [${c.join(', ')}] does not broadcast to [${m}, ${n}]`);
    }
    return [m, n];
  },
  compile(ctx, own) {
    const transA = intAttr(ctx.node, 'transA', 0) !== 0;
    const transB = intAttr(ctx.node, 'transB', 0) !== 0;
    const alpha = floatAttr(ctx.node, 'alpha', 1);
    const beta = floatAttr(ctx.node, 'beta', 1);
    // Constant operands are prepared once: B scaled by alpha, C by beta.
    const fixed = [0, 1, 2].map((i) => {
      if (i === 2 && !ctx.has(2)) return undefined;
      const t = constantTensor(ctx, i);
      if (!t) return undefined;
      const scaled = tf.tidy(() => (i === 1 && alpha !== 1 ? tf.mul(t, alpha) : i === 2 && beta !== 1 ? tf.mul(t, beta) : t.clone()));
      t.dispose();
      return own(scaled);
    });
    const inputs = [0, 1, 2].filter((i) => !fixed[i] && (i < 2 || ctx.has(2)));
    return {
      inputs,
      run: (xs) => {
        const v: (tf.Tensor | undefined)[] = [...fixed];
        inputs.forEach((i, k) => (v[i] = xs[k]));
        let b = v[1]!;
        if (!fixed[1] && alpha !== 1) b = tf.mul(b, alpha);
        let y = tf.matMul(v[0] as tf.Tensor2D, b as tf.Tensor2D, transA, transB);
        if (v[2]) y = tf.add(y, !fixed[2] && beta !== 1 ? tf.mul(v[2], beta) : v[2]);
        return y;
      },
    };
  },
  rf: () => ({ kind: 'global' }),
};

export const matMul: OpDef = {
  infer(ctx) {
    const a = inputShape(ctx, 0, [2, 3, 4], 'A');
    const b = inputShape(ctx, 1, [2, 3, 4], 'B');
    if (a[a.length - 1] !== b[b.length - 2]) throw nodeError(ctx.node, `A [${a.join(', ')}] and B [${b.join(', ')}] do not multiply`);
    const batch = broadcastShapes(a.slice(0, -2), b.slice(0, -2));
    if (!batch) throw nodeError(ctx.node, `batch dimensions of [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`);
    return [...batch, a[a.length - 2], b[b.length - 1]];
  },
  compile(ctx, own) {
    const fixed = [0, 1].map((i) => {
      const t = constantTensor(ctx, i);
      return t ? own(t) : undefined;
    });
    const inputs = [0, 1].filter((i) => !fixed[i]);
    return {
      inputs,
      run: (xs) => {
        let k = 0;
        const [a, b] = fixed.map((f) => f ?? toLogical(xs[k++]));
        return fromLogical(tf.matMul(a, b));
      },
    };
  },
  rf: () => ({ kind: 'global' }),
  // A constant matrix applied to the channels of a permuted map ([N, H, W, C] x [C, K], ConvNeXt's
  // pointwise convolutions) acts per position; anything that sums over H or W does not.
  rfPermuted: (ctx, spatial) => {
    const rank = ctx.shapes[0].length;
    return ctx.constant(1) && !ctx.constant(0) && ctx.shapes[1].length === 2 && spatial.every((a) => a < rank - 1) ? { kind: 'pointwise' } : { kind: 'global' };
  },
};
