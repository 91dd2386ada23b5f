// Checks and conversions shared by the operator definitions.
import * as tf from '@tensorflow/tfjs';
import { nodeError, type Window2D } from '../attrs';
import type { ConstTensor } from '../ir';
import { fromLogical } from '../layout';
import type { NodeCtx } from './types';

export function inputShape(ctx: NodeCtx, i: number, ranks: readonly number[], what: string): readonly number[] {
  if (!ctx.has(i)) throw nodeError(ctx.node, `${what} (input ${i}) is missing`);
  const s = ctx.shapes[i];
  if (!ranks.includes(s.length)) {
    throw nodeError(ctx.node, `${what} has rank ${s.length} (shape [${s.join(', ')}]); expected rank ${ranks.join(' or ')}`);
  }
  return s;
}

export function floatConstant(ctx: NodeCtx, i: number, what: string, shape?: readonly number[]): ConstTensor & { dtype: 'float32' } {
  const c = ctx.constant(i);
  if (!c) throw nodeError(ctx.node, `${what} (input ${i}) must be a constant (an initializer)`);
  if (c.dtype !== 'float32') throw nodeError(ctx.node, `${what} must hold floats, not integers`);
  if (shape && (c.shape.length !== shape.length || c.shape.some((d, k) => d !== shape[k]))) {
    throw nodeError(ctx.node, `${what} has shape [${c.shape.join(', ')}]; expected [${shape.join(', ')}]`);
  }
  return c;
}

export function intConstant(ctx: NodeCtx, i: number, what: string): number[] {
  const c = ctx.constant(i);
  if (!c) throw nodeError(ctx.node, `${what} (input ${i}) must be a constant`);
  if (c.dtype !== 'int64') throw nodeError(ctx.node, `${what} must hold integers`);
  if (c.shape.length > 1) throw nodeError(ctx.node, `${what} must be a list, not shape [${c.shape.join(', ')}]`);
  return Array.from(c.data);
}

/** A float scalar constant (Clip bounds, Pad value), or the default when the input is omitted. */
export function scalarConstant(ctx: NodeCtx, i: number, what: string, dflt: number): number {
  if (!ctx.has(i)) return dflt;
  const c = floatConstant(ctx, i, what);
  if (c.data.length !== 1) throw nodeError(ctx.node, `${what} must be a single value`);
  return c.data[0];
}

/** A constant as a tensor in the executor's stored layout. */
export function storedConstant(c: ConstTensor): tf.Tensor {
  if (c.dtype !== 'float32') throw new Error(`integer tensor ${c.name} used as data`);
  return tf.tidy(() => fromLogical(tf.tensor(c.data, c.shape, 'float32')));
}

/** Output size of a window op, with a clear error when the input is too small. */
export function positiveSize(ctx: NodeCtx, size: number, inH: number, inW: number): number {
  if (size <= 0) throw nodeError(ctx.node, `the input (${inH}x${inW}) is too small for its window`);
  return size;
}

/**
 * How tfjs should pad: 'valid' when there is no padding, 'same' when the ONNX pads are exactly
 * TensorFlow's SAME pads for this input, otherwise explicit numbers (applied with tf.pad, since
 * tfjs-node gradients do not take explicit conv padding).
 */
export function tfPadding(w: Window2D, inHW: readonly [number, number]): 'valid' | 'same' | 'explicit' {
  const axes = [0, 1] as const;
  if (axes.every((a) => w.padsBegin[a] === 0 && w.padsEnd[a] === 0)) return 'valid';
  const same = axes.every((a) => {
    const span = (w.kernel[a] - 1) * w.dilations[a] + 1;
    const total = (Math.ceil(inHW[a] / w.strides[a]) - 1) * w.strides[a] + span - inHW[a];
    return total > 0 && w.padsBegin[a] === Math.floor(total / 2) && w.padsEnd[a] === total - Math.floor(total / 2);
  });
  return same ? 'same' : 'explicit';
}

export function padSpatial(x: tf.Tensor4D, w: Window2D, value = 0): tf.Tensor4D {
  const p: [number, number][] = [[0, 0], [w.padsBegin[0], w.padsEnd[0]], [w.padsBegin[1], w.padsEnd[1]], [0, 0]];
  return tf.pad(x, p, value);
}

/** Numpy broadcasting of two logical shapes, or null when they do not broadcast. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | null {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(x === 1 ? y : x);
  }
  return out;
}
