// ReduceMean, ReduceSum, ReduceMax. The axes are an attribute up to a version (ReduceSum: 13,
// the others: 18) and a constant input from then on; the dynamo exporter writes global pooling
// as ReduceMean over H and W with keepdims.
import * as tf from '@tensorflow/tfjs';
import { intAttr, intsAttr, nodeError } from '../attrs';
import { fromLogical, runtimeAxis, toLogical } from '../layout';
import { inputShape, intConstant } from './common';
import { ANY_RANK, normAxis } from './structure';
import type { NodeCtx, OpDef } from './types';

type Reducer = (x: tf.Tensor, axes: number[], keepDims: boolean) => tf.Tensor;

/** The reduced logical axes, sorted; null when the node reduces nothing (noop_with_empty_axes). */
function reducedAxes(ctx: NodeCtx, axesInputSince: number): number[] | null {
  const rank = ctx.shapes[0].length;
  let given: number[] | undefined;
  if (ctx.opset < axesInputSince) given = ctx.node.attrs.axes ? intsAttr(ctx.node, 'axes') : undefined;
  else if (ctx.node.attrs.axes) throw nodeError(ctx.node, `from opset ${axesInputSince} the axes are an input, not an attribute`);
  else if (ctx.has(1)) given = intConstant(ctx, 1, 'the axes');
  if (!given || given.length === 0) {
    return intAttr(ctx.node, 'noop_with_empty_axes', 0) !== 0 ? null : [...Array(rank).keys()];
  }
  const axes = given.map((a) => normAxis(ctx, a, rank));
  if (new Set(axes).size !== axes.length) throw nodeError(ctx.node, `axes [${given.join(', ')}] repeat an axis`);
  return axes.sort((a, b) => a - b);
}

const keepDims = (ctx: NodeCtx) => intAttr(ctx.node, 'keepdims', 1) !== 0;

function reduction(reduce: Reducer, axesInputSince: number): OpDef {
  return {
    infer(ctx) {
      const x = inputShape(ctx, 0, ANY_RANK, 'the input');
      const axes = reducedAxes(ctx, axesInputSince);
      if (!axes) return [...x];
      if (keepDims(ctx)) return x.map((d, a) => (axes.includes(a) ? 1 : d));
      const out = x.filter((_, a) => !axes.includes(a));
      if (out.length === 0) throw nodeError(ctx.node, 'scalar results are not supported');
      return out;
    },
    compile(ctx) {
      const rank = ctx.shapes[0].length;
      const axes = reducedAxes(ctx, axesInputSince);
      const keep = keepDims(ctx);
      // With keepdims the rank stays, so the stored axes can be reduced in place.
      const stored = axes?.map((a) => runtimeAxis(a, rank));
      return {
        inputs: [0],
        run: ([x]) => {
          if (!axes || !stored) return tf.clone(x);
          return keep ? reduce(x, stored, true) : fromLogical(reduce(toLogical(x), axes, false));
        },
      };
    },
    rf(ctx) {
      const axes = reducedAxes(ctx, axesInputSince);
      // Over channels only (with keepdims), each position keeps its RF; over H or W, units see everything.
      if (!axes) return { kind: 'pointwise' };
      return ctx.shapes[0].length === 4 && axes.length === 1 && axes[0] === 1 && keepDims(ctx) ? { kind: 'pointwise' } : { kind: 'global' };
    },
  };
}

export const reduceMean = reduction(tf.mean, 18);
export const reduceSum = reduction(tf.sum, 13);
export const reduceMax = reduction(tf.max, 18);
