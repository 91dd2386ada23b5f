// Operators that rearrange, pick or split the axes of activations at run time: Transpose,
// Squeeze, Unsqueeze, Gather, Slice, Split. (Shape subgraphs on constants are folded by the
// planner.) Axes are ONNX's; rank-4 tensors are stored NHWC, so ops that keep the rank work on
// stored axes directly, and ops that change it go through the logical layout.
import * as tf from '@tensorflow/tfjs';
import { intAttr, intsAttr, nodeError } from '../attrs';
import { fromLogical, runtimeAxis, storedPermutation, toLogical } from '../layout';
import { inputShape, intConstant } from './common';
import { ANY_RANK, normAxis } from './structure';
import type { NodeCtx, OpDef, RFStep } from './types';

/** The data input must be an activation: ops on constants only are folded before they get here. */
function activation(ctx: NodeCtx, what = 'the input'): readonly number[] {
  if (ctx.constant(0)) throw nodeError(ctx.node, `${what} is a constant that the planner could not fold`);
  return inputShape(ctx, 0, ANY_RANK, what);
}

/** An integer list given as attribute `name` before `inputSince`, as constant input `index` from then on. */
function listParam(ctx: NodeCtx, name: string, index: number, inputSince: number): number[] | undefined {
  if (ctx.opset < inputSince) return ctx.node.attrs[name] ? intsAttr(ctx.node, name) : undefined;
  if (ctx.node.attrs[name]) throw nodeError(ctx.node, `from opset ${inputSince} the ${name} are an input, not an attribute`);
  return ctx.has(index) ? intConstant(ctx, index, `the ${name}`) : undefined;
}

function distinctAxes(ctx: NodeCtx, axes: readonly number[], rank: number): number[] {
  const out = axes.map((a) => normAxis(ctx, a, rank));
  if (new Set(out).size !== out.length) throw nodeError(ctx.node, `axes [${axes.join(', ')}] repeat an axis`);
  return out;
}

/**
 * The axis Split and Gather work along. Axis 0 is the batch only in graphs that take batches; in
 * one made for a single image (PyTorch's attention picks q, k, v off axis 0) the executor runs
 * each image alone, so the sizes inferred at batch 1 hold.
 */
function opAxis(ctx: NodeCtx): number {
  return normAxis(ctx, intAttr(ctx.node, 'axis', 0), ctx.shapes[0].length);
}

function transposePerm(ctx: NodeCtx, rank: number): number[] {
  const perm = intsAttr(ctx.node, 'perm', [...Array(rank).keys()].reverse());
  if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((a, i) => a !== i)) {
    throw nodeError(ctx.node, `perm [${perm.join(', ')}] is not a permutation of the ${rank} axes`);
  }
  return perm;
}

/** The units keep their RFs; H and W move (ConvNeXt's NHWC detour and back). */
const permuteRF = (ctx: NodeCtx): RFStep => ({ kind: 'permute', perm: transposePerm(ctx, ctx.shapes[0].length) });

export const transpose: OpDef = {
  infer(ctx) {
    const x = activation(ctx);
    return transposePerm(ctx, x.length).map((a) => x[a]);
  },
  compile(ctx) {
    const stored = storedPermutation(transposePerm(ctx, ctx.shapes[0].length));
    return { inputs: [0], run: ([x]) => tf.transpose(x, stored) };
  },
  rf: permuteRF,
  rfPermuted: permuteRF,
};

/** The logical shape without the squeezed axes (all unit axes when none are given). */
function squeezed(ctx: NodeCtx, shape: readonly number[]): number[] {
  const given = listParam(ctx, 'axes', 1, 13);
  const axes = given ? distinctAxes(ctx, given, shape.length) : shape.flatMap((d, a) => (d === 1 ? [a] : []));
  for (const a of axes) if (shape[a] !== 1) throw nodeError(ctx.node, `axis ${a} of [${shape.join(', ')}] is not 1`);
  return shape.filter((_, a) => !axes.includes(a));
}

function unsqueezed(ctx: NodeCtx, shape: readonly number[]): number[] {
  const given = listParam(ctx, 'axes', 1, 13);
  if (!given) throw nodeError(ctx.node, 'the axes are missing');
  const rank = shape.length + given.length;
  if (!ANY_RANK.includes(rank)) throw nodeError(ctx.node, `results of rank ${rank} are not supported`);
  const axes = distinctAxes(ctx, given, rank);
  const rest = [...shape];
  return Array.from({ length: rank }, (_, a) => (axes.includes(a) ? 1 : rest.shift()!));
}

/** Squeeze and Unsqueeze: a reshape of the logical tensor, worked out again for each batch size. */
function reshaping(shapeOf: (ctx: NodeCtx, shape: readonly number[]) => number[], rf: OpDef['rf']): OpDef {
  return {
    infer(ctx) {
      const out = shapeOf(ctx, activation(ctx));
      if (out.length === 0) throw nodeError(ctx.node, 'scalar results are not supported');
      return out;
    },
    compile(ctx) {
      return {
        inputs: [0],
        run: ([x]) => {
          const logical = toLogical(x);
          return fromLogical(tf.reshape(logical, shapeOf(ctx, logical.shape)));
        },
      };
    },
    rf,
  };
}

/**
 * Dropping or adding the channel axis between [N, 1, H, W] and [N, H, W] keeps each position's
 * RF (see receptive-fields.ts); any other change of rank leaves no spatial layout.
 */
const channelAxisOnly = (ctx: NodeCtx, ranks: [number, number], shapeOf: (ctx: NodeCtx, shape: readonly number[]) => number[]): RFStep => {
  const x = ctx.shapes[0];
  const out = shapeOf(ctx, x);
  const kept = x.length === ranks[0] && out.length === ranks[1] && [0, -2, -1].every((a) => x.at(a) === out.at(a));
  return kept ? { kind: 'pointwise' } : { kind: 'global' };
};

export const squeeze = reshaping(squeezed, (ctx) => channelAxisOnly(ctx, [4, 3], squeezed));
export const unsqueeze = reshaping(unsqueezed, (ctx) => channelAxisOnly(ctx, [3, 4], unsqueezed));

/** Gather's constant indices, checked against an axis of size `dim`; negative ones count from the end. */
function gatherIndices(ctx: NodeCtx, dim: number): { values: number[]; shape: number[] } {
  const c = ctx.constant(1);
  if (!c) throw nodeError(ctx.node, 'the indices (input 1) must be a constant');
  if (c.dtype !== 'int64') throw nodeError(ctx.node, 'the indices must be integers');
  const values = Array.from(c.data);
  if (values.some((i) => !(i >= -dim && i < dim))) throw nodeError(ctx.node, `an index is out of range for an axis of size ${dim}`);
  return { values, shape: c.shape };
}

export const gather: OpDef = {
  infer(ctx) {
    const x = activation(ctx, 'the data');
    const axis = opAxis(ctx);
    const out = [...x.slice(0, axis), ...gatherIndices(ctx, x[axis]).shape, ...x.slice(axis + 1)];
    if (!ANY_RANK.includes(out.length)) throw nodeError(ctx.node, `results of rank ${out.length} are not supported`);
    return out;
  },
  compile(ctx) {
    const axis = opAxis(ctx);
    const { values, shape } = gatherIndices(ctx, ctx.shapes[0][axis]);
    return {
      inputs: [0],
      run: ([x]) => {
        const logical = toLogical(x);
        const s = logical.shape;
        // The axis may be H or W, whose size (for negative indices) is known at run time only.
        const picked = tf.gather(logical, values.map((i) => (i < 0 ? i + s[axis] : i)), axis);
        return fromLogical(tf.reshape(picked, [...s.slice(0, axis), ...shape, ...s.slice(axis + 1)]));
      },
    };
  },
  // Picking channels of a rank-4 tensor (GoogLeNet's transform_input picks one, giving [N, H, W])
  // keeps the positions.
  rf: (ctx) => (ctx.shapes[0].length === 4 && opAxis(ctx) === 1 && gatherIndices(ctx, ctx.shapes[0][1]).shape.length <= 1 ? { kind: 'pointwise' } : { kind: 'global' }),
};

interface SliceAxis {
  axis: number;
  start: number;
  end: number;
  step: number;
}

function sliceSpec(ctx: NodeCtx, rank: number): SliceAxis[] {
  const starts = listParam(ctx, 'starts', 1, 10);
  const ends = listParam(ctx, 'ends', 2, 10);
  if (!starts || !ends) throw nodeError(ctx.node, 'starts and ends are required');
  const axes = listParam(ctx, 'axes', 3, 10) ?? starts.map((_, i) => i);
  const steps = (ctx.opset >= 10 ? listParam(ctx, 'steps', 4, 10) : undefined) ?? starts.map(() => 1);
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) {
    throw nodeError(ctx.node, 'starts, ends, axes and steps differ in length');
  }
  const normed = distinctAxes(ctx, axes, rank);
  if (steps.some((s) => s === 0)) throw nodeError(ctx.node, 'a step is 0');
  return normed.map((axis, i) => ({ axis, start: starts[i], end: ends[i], step: steps[i] }));
}

/** The indices a slice takes along an axis of size `dim`, clamped as ONNX does. */
function sliceIndices({ start, end, step }: SliceAxis, dim: number): number[] {
  const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v < 0 ? v + dim : v));
  const out: number[] = [];
  if (step > 0) for (let i = clamp(start, 0, dim), e = clamp(end, 0, dim); i < e; i += step) out.push(i);
  else for (let i = clamp(start, -1, dim - 1), e = clamp(end, -1, dim - 1); i > e; i += step) out.push(i);
  return out;
}

export const slice: OpDef = {
  infer(ctx) {
    const x = activation(ctx);
    const out = [...x];
    for (const s of sliceSpec(ctx, x.length)) {
      out[s.axis] = sliceIndices(s, x[s.axis]).length;
      if (out[s.axis] === 0) throw nodeError(ctx.node, `the slice of axis ${s.axis} (size ${x[s.axis]}) is empty`);
    }
    return out;
  },
  compile(ctx) {
    const rank = ctx.shapes[0].length;
    const spec = sliceSpec(ctx, rank);
    // Bounds depend on the axis sizes, which (batch, image size) may differ from run to run.
    return {
      inputs: [0],
      run: ([x]) => {
        let y = x;
        for (const s of spec) {
          const axis = runtimeAxis(s.axis, rank);
          const idx = sliceIndices(s, x.shape[axis]);
          // Unit steps are a plain slice; others a gather (tfjs has no gradient for strided slices).
          if (s.step === 1) y = tf.slice(y, y.shape.map((_, a) => (a === axis ? idx[0] : 0)), y.shape.map((d, a) => (a === axis ? idx.length : d)));
          else y = tf.gather(y, tf.tensor1d(idx, 'int32'), axis);
        }
        return y;
      },
    };
  },
  rf(ctx) {
    const shape = ctx.shapes[0];
    if (shape.length !== 4) return { kind: 'global' };
    const spec = sliceSpec(ctx, 4);
    if (spec.some((s) => s.step < 0)) return { kind: 'global' };
    // Along H and W a forward slice is a window of one with the step as stride, starting at the first index.
    const axis = (a: number) => {
      const s = spec.find((t) => t.axis === a);
      return { kernel: 1, stride: s?.step ?? 1, dilation: 1, padBegin: s ? -sliceIndices(s, shape[a])[0] : 0 };
    };
    return { kind: 'window', y: axis(2), x: axis(3) };
  },
};

/** Sizes of the parts: given (attribute before opset 13, input after), or equal parts as ONNX cuts them. */
function splitSizes(ctx: NodeCtx, dim: number): number[] {
  const parts = ctx.node.outputs.length;
  const given = listParam(ctx, 'split', 1, 13);
  if (given) {
    if (given.length !== parts) throw nodeError(ctx.node, `${given.length} split sizes for ${parts} outputs`);
    if (given.some((s) => s <= 0) || given.reduce((a, b) => a + b, 0) !== dim) {
      throw nodeError(ctx.node, `split sizes [${given.join(', ')}] do not add up to the axis size ${dim}`);
    }
    return given;
  }
  const n = ctx.opset >= 18 ? intAttr(ctx.node, 'num_outputs') : parts;
  if (n !== parts) throw nodeError(ctx.node, `num_outputs ${n} but ${parts} outputs`);
  // Opset 18: parts of ceil(dim / n), the last one smaller; earlier opsets require equal parts.
  const size = Math.ceil(dim / n);
  const sizes = Array.from({ length: n }, (_, k) => Math.min(size, dim - k * size));
  if (sizes.some((s) => s <= 0) || (ctx.opset < 18 && dim % n !== 0)) throw nodeError(ctx.node, `an axis of size ${dim} does not split into ${n} parts`);
  return sizes;
}

function splitShapes(ctx: NodeCtx): number[][] {
  const x = activation(ctx);
  const axis = opAxis(ctx);
  return splitSizes(ctx, x[axis]).map((d) => x.map((e, a) => (a === axis ? d : e)));
}

export const split: OpDef = {
  infer: (ctx) => splitShapes(ctx)[0],
  inferOutputs: splitShapes,
  compile(ctx) {
    const rank = ctx.shapes[0].length;
    const axis = opAxis(ctx);
    const sizes = splitSizes(ctx, ctx.shapes[0][axis]);
    return { inputs: [0], run: ([x]) => tf.split(x, sizes, runtimeAxis(axis, rank)) };
  },
  // Channel groups (ShuffleNet's chunk) keep the positions; a split along H or W shifts them.
  rf: (ctx) => (ctx.shapes[0].length === 4 && opAxis(ctx) === 1 ? { kind: 'pointwise' } : { kind: 'global' }),
};
