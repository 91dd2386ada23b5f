// Runtime layout rule of the executor: a rank-4 tensor is stored NHWC (its logical ONNX layout
// is NCHW); every other rank is stored in its logical layout. Ops that index axes or reorder
// elements (Flatten, Reshape, Concat, Pad, Softmax, MatMul, Transpose...) translate through these helpers.
import * as tf from '@tensorflow/tfjs';

const NCHW_TO_NHWC = [0, 2, 3, 1];
const NHWC_TO_NCHW = [0, 3, 1, 2];

/** Logical (ONNX) axis → axis of the stored tensor. */
export function runtimeAxis(axis: number, rank: number): number {
  return rank === 4 ? NCHW_TO_NHWC.indexOf(axis) : axis;
}

/** The one transpose of stored tensors that applies the logical permutation `perm`. */
export function storedPermutation(perm: readonly number[]): number[] {
  if (perm.length !== 4) return [...perm];
  return NCHW_TO_NHWC.map((k) => NHWC_TO_NCHW[perm[k]]);
}

/** Logical (NCHW) shape of a stored tensor, without moving its data. */
export function logicalShape(t: tf.Tensor): number[] {
  return t.rank === 4 ? NHWC_TO_NCHW.map((a) => t.shape[a]) : [...t.shape];
}

/** Stored tensor → its logical layout (a transpose for rank 4). */
export function toLogical(t: tf.Tensor): tf.Tensor {
  return t.rank === 4 ? tf.transpose(t, NHWC_TO_NCHW) : t;
}

/** Logical tensor → stored layout. */
export function fromLogical(t: tf.Tensor): tf.Tensor {
  return t.rank === 4 ? tf.transpose(t, NCHW_TO_NHWC) : t;
}

/**
 * A logical tensor of rank < 4 that broadcasts against a rank-4 one (numpy rules: align on the
 * right) → the rank-4 stored tensor that broadcasts the same way against NHWC.
 */
export function liftToRank4(t: tf.Tensor): tf.Tensor {
  if (t.rank >= 4) return fromLogical(t);
  const shape = [...new Array(4 - t.rank).fill(1), ...t.shape];
  return tf.transpose(tf.reshape(t, shape), NCHW_TO_NHWC);
}
