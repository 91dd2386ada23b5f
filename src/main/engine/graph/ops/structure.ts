// Operators that move elements or index axes: Concat, Flatten, Reshape, Pad, Softmax. Their axes
// and element order are ONNX's (NCHW); rank-4 tensors are translated to and from NHWC.
import * as tf from '@tensorflow/tfjs';
import { intAttr, intsAttr, floatAttr, nodeError, stringAttr } from '../attrs';
import { elementCount } from '../ir';
import { fromLogical, runtimeAxis, toLogical } from '../layout';
import { inputShape, intConstant, scalarConstant, storedConstant } from './common';
import type { NodeCtx, OpDef } from './types';

/** Ranks the structural ops take (ShuffleNet's channel shuffle reshapes to rank 5). */
export const ANY_RANK = [1, 2, 3, 4, 5, 6];

export function normAxis(ctx: NodeCtx, axis: number, rank: number, allowRank = false): number {
  const max = allowRank ? rank : rank - 1;
  const a = axis < 0 ? axis + rank : axis;
  if (!(a >= 0 && a <= max)) throw nodeError(ctx.node, `axis ${axis} is out of range for rank ${rank}`);
  return a;
}

export const concat: OpDef = {
  infer(ctx) {
    const n = ctx.node.inputs.length;
    if (n === 0) throw nodeError(ctx.node, 'no inputs');
    const first = inputShape(ctx, 0, ANY_RANK, 'input 0');
    const axis = normAxis(ctx, intAttr(ctx.node, 'axis'), first.length);
    const out = [...first];
    for (let i = 1; i < n; i++) {
      const s = inputShape(ctx, i, [first.length], `input ${i}`);
      if (s.some((d, k) => k !== axis && d !== first[k])) {
        throw nodeError(ctx.node, `input shapes [${first.join(', ')}] and [${s.join(', ')}] differ off axis ${axis}`);
      }
      out[axis] += s[axis];
    }
    return out;
  },
  compile(ctx, own) {
    const rank = ctx.shapes[0].length;
    const axis = runtimeAxis(normAxis(ctx, intAttr(ctx.node, 'axis'), rank), rank);
    const fixed = ctx.node.inputs.map((_, i) => {
      const c = ctx.constant(i);
      return c ? own(storedConstant(c)) : undefined;
    });
    return {
      inputs: fixed.flatMap((f, i) => (f ? [] : [i])),
      run: (xs) => {
        let k = 0;
        return tf.concat(
          fixed.map((f) => f ?? xs[k++]),
          axis,
        );
      },
    };
  },
  rf(ctx) {
    const rank = ctx.shapes[0].length;
    return rank === 4 && normAxis(ctx, intAttr(ctx.node, 'axis'), rank) === 1 ? { kind: 'pointwise' } : { kind: 'global' };
  },
};

export const flatten: OpDef = {
  infer(ctx) {
    const x = inputShape(ctx, 0, ANY_RANK, 'the input');
    const axis = normAxis(ctx, intAttr(ctx.node, 'axis', 1), x.length, true);
    return [elementCount(x.slice(0, axis)), elementCount(x.slice(axis))];
  },
  compile(ctx) {
    const axis = normAxis(ctx, intAttr(ctx.node, 'axis', 1), ctx.shapes[0].length, true);
    return {
      inputs: [0],
      run: ([x]) => {
        const logical = toLogical(x);
        return tf.reshape(logical, [elementCount(logical.shape.slice(0, axis)), -1]);
      },
    };
  },
  rf: () => ({ kind: 'global' }),
};

/** ONNX Reshape target: 0 copies the input dimension, -1 takes what is left. */
function reshapeTarget(ctx: NodeCtx, spec: readonly number[], input: readonly number[]): number[] {
  if (intAttr(ctx.node, 'allowzero', 0) !== 0 && spec.includes(0)) throw nodeError(ctx.node, 'reshaping to an empty tensor is not supported');
  const out = spec.map((d, i) => {
    if (d === 0) {
      if (i >= input.length) throw nodeError(ctx.node, `shape entry ${i} copies a dimension the input does not have`);
      return input[i];
    }
    if (d < -1) throw nodeError(ctx.node, `shape entry ${d} is invalid`);
    return d;
  });
  const unknown = out.filter((d) => d === -1).length;
  if (unknown > 1) throw nodeError(ctx.node, 'shape has more than one -1');
  const total = elementCount(input);
  const known = elementCount(out.filter((d) => d !== -1));
  if (unknown === 1 ? known === 0 || total % known !== 0 : known !== total) {
    throw nodeError(ctx.node, `cannot reshape [${input.join(', ')}] to [${spec.join(', ')}]`);
  }
  return out.map((d) => (d === -1 ? total / known : d));
}

export const reshape: OpDef = {
  infer(ctx) {
    const x = inputShape(ctx, 0, ANY_RANK, 'the input');
    const out = reshapeTarget(ctx, intConstant(ctx, 1, 'the target shape'), x);
    if (!ANY_RANK.includes(out.length)) throw nodeError(ctx.node, `results of rank ${out.length} are not supported`);
    return out;
  },
  compile(ctx) {
    const spec = intConstant(ctx, 1, 'the target shape');
    return {
      inputs: [0],
      run: ([x]) => {
        const logical = toLogical(x);
        return fromLogical(tf.reshape(logical, reshapeTarget(ctx, spec, logical.shape)));
      },
    };
  },
  rf: () => ({ kind: 'global' }),
};

interface PadSpec {
  mode: 'constant' | 'reflect' | 'edge';
  /** Logical [begin, end] per axis; negative values crop. */
  pads: [number, number][];
  value: number;
}

function padSpec(ctx: NodeCtx): PadSpec {
  const rank = ctx.shapes[0].length;
  const mode = stringAttr(ctx.node, 'mode', 'constant');
  if (mode !== 'constant' && mode !== 'reflect' && mode !== 'edge') throw nodeError(ctx.node, `mode "${mode}" is not supported`);
  if (ctx.has(3)) throw nodeError(ctx.node, 'the axes input is not supported');
  const flat = ctx.opset < 11 ? intsAttr(ctx.node, 'pads') : intConstant(ctx, 1, 'the pads');
  if (flat.length !== 2 * rank) throw nodeError(ctx.node, `${flat.length} pads for a rank-${rank} input`);
  if (flat.some((p) => Math.abs(p) > 4096)) throw nodeError(ctx.node, `pads [${flat.join(', ')}] are out of range`);
  const value = ctx.opset < 11 ? floatAttr(ctx.node, 'value', 0) : scalarConstant(ctx, 2, 'the constant value', 0);
  return { mode, pads: Array.from({ length: rank }, (_, a) => [flat[a], flat[a + rank]]), value };
}

export const pad: OpDef = {
  infer(ctx) {
    const x = inputShape(ctx, 0, ANY_RANK, 'the input');
    const { mode, pads } = padSpec(ctx);
    return x.map((d, a) => {
      const [b, e] = pads[a];
      const size = d + b + e;
      if (size <= 0) throw nodeError(ctx.node, `pads crop axis ${a} (size ${d}) to nothing`);
      if (mode === 'reflect' && Math.max(b, e) >= d + Math.min(0, b) + Math.min(0, e)) {
        throw nodeError(ctx.node, `reflect pads must be smaller than the axis (${d})`);
      }
      return size;
    });
  },
  compile(ctx) {
    const { mode, pads, value } = padSpec(ctx);
    const rank = pads.length;
    // Pads in stored axis order (NHWC axis a is logical axis [0, 2, 3, 1][a]).
    const stored = pads.map((_, a) => pads[rank === 4 ? [0, 2, 3, 1][a] : a]);
    return {
      inputs: [0],
      run: ([input]) => {
        // Negative pads crop first; the rest pads.
        const begin = stored.map(([b]) => Math.max(0, -b));
        const size = input.shape.map((d, a) => d - begin[a] - Math.max(0, -stored[a][1]));
        const x = stored.some(([b, e]) => b < 0 || e < 0) ? tf.slice(input, begin, size) : input;
        const grow = stored.map(([b, e]) => [Math.max(0, b), Math.max(0, e)] as [number, number]);
        return mode === 'constant' ? tf.pad(x, grow, value) : indexPad(x, grow, mode);
      },
    };
  },
  rf(ctx) {
    const { pads } = padSpec(ctx);
    return pads.length === 4 ? { kind: 'pad', y: pads[2][0], x: pads[3][0] } : { kind: 'global' };
  },
};

/**
 * Edge and reflect padding as a gather of source indices, axis by axis. (tf.mirrorPad would do
 * for reflect, but its tfjs gradient drops the reflected part; a gather's gradient sums it back.)
 */
function indexPad(x: tf.Tensor, grow: [number, number][], mode: 'reflect' | 'edge'): tf.Tensor {
  let y = x;
  grow.forEach(([b, e], axis) => {
    if (b === 0 && e === 0) return;
    const n = y.shape[axis];
    const source = (j: number) => (mode === 'edge' ? Math.min(n - 1, Math.max(0, j)) : j < 0 ? -j : j >= n ? 2 * (n - 1) - j : j);
    const idx = Array.from({ length: n + b + e }, (_, i) => source(i - b));
    y = tf.gather(y, tf.tensor1d(idx, 'int32'), axis);
  });
  return y;
}

export const softmax: OpDef = {
  infer(ctx) {
    const x = inputShape(ctx, 0, ANY_RANK, 'the input');
    normAxis(ctx, intAttr(ctx.node, 'axis', ctx.opset >= 13 ? -1 : 1), x.length);
    return [...x];
  },
  compile(ctx) {
    const rank = ctx.shapes[0].length;
    const axis = normAxis(ctx, intAttr(ctx.node, 'axis', ctx.opset >= 13 ? -1 : 1), rank);
    return {
      inputs: [0],
      run: ([x]) => {
        const logical = toLogical(x);
        const shape = logical.shape;
        let y: tf.Tensor;
        if (ctx.opset >= 13) {
          // Normalize along one axis: move it last, softmax, move it back.
          const perm = [...Array(rank).keys()].filter((a) => a !== axis).concat(axis);
          const inverse = perm.map((_, a) => perm.indexOf(a));
          y = tf.transpose(tf.softmax(tf.transpose(logical, perm)), inverse);
        } else {
          // Before opset 13: normalize over all axes from `axis` on, as one flattened row.
          y = tf.reshape(tf.softmax(tf.reshape(logical, [elementCount(shape.slice(0, axis)), -1])), shape);
        }
        return fromLogical(y);
      },
    };
  },
  rf(ctx) {
    const rank = ctx.shapes[0].length;
    const axis = normAxis(ctx, intAttr(ctx.node, 'axis', ctx.opset >= 13 ? -1 : 1), rank);
    return rank === 4 && axis === 1 && ctx.opset >= 13 ? { kind: 'pointwise' } : { kind: 'global' };
  },
};
