// What the executor needs from each operator: output shape inference (which also validates the
// node, before any tensor is allocated), a compiled runtime function over stored-layout tensors,
// and the node's effect on receptive fields.
import type * as tf from '@tensorflow/tfjs';
import type { Window } from '../../../../shared/math/receptive-field';
import type { ConstTensor, GraphNode } from '../ir';

export interface NodeCtx {
  readonly node: GraphNode;
  /** Opset of the default domain. */
  readonly opset: number;
  /** Logical shapes of the inputs at the shape-inference size; [] for an omitted input. */
  readonly shapes: readonly (readonly number[])[];
  /** The constant behind input i, or undefined when it is computed at run time (or omitted). */
  constant(i: number): ConstTensor | undefined;
  /** True when input i is given (optional inputs may be omitted or named ''). */
  has(i: number): boolean;
}

/** Keeps a tensor the compiled op owns for the model's lifetime (disposed with the model). */
export type Own = <T extends tf.Tensor>(t: T) => T;

export interface CompiledOp {
  /** Indices of the node inputs the run function receives, in order. */
  readonly inputs: readonly number[];
  /** The output, or one tensor per output for an op with several (Split). */
  run(xs: tf.Tensor[]): tf.Tensor | tf.Tensor[];
  /**
   * The output at one spatial position only, [N, 1, 1, C], from the whole input or from a source
   * of its parts (ops that compute it from a window of their input: convolutions); with
   * `channels`, those channels only, in order.
   */
  at?(x: tf.Tensor | RegionSource, position: readonly [number, number], channels?: readonly number[]): tf.Tensor;
  /**
   * The output as parts computed on demand, each from the matching part of the input alone (ops
   * whose windows tile their input: 2 x 2 max pooling), so that a window of the next op is all
   * that is computed.
   */
  region?(x: tf.Tensor): RegionSource;
}

/** An NHWC tensor given by rectangles of it, [N, size[0], size[1], C] each. */
export interface RegionSource {
  /** The whole tensor's shape. */
  readonly shape: readonly [number, number, number, number];
  cut(lo: readonly [number, number], size: readonly [number, number]): tf.Tensor4D;
}

/** How a node maps its input units' receptive fields to its output units'. */
export type RFStep =
  | { kind: 'window'; y: Window; x: Window }
  | { kind: 'transposed-window'; y: Window; x: Window }
  | { kind: 'pad'; y: number; x: number }
  /** Each output unit sees the same position of its inputs (activations, BN, Add, channel Concat). */
  | { kind: 'pointwise' }
  /** Output units have no spatial layout or see everything (global pooling, Flatten, Gemm). */
  | { kind: 'global' }
  /** The same units with their axes permuted (Transpose): H and W move to other axes. */
  | { kind: 'permute'; perm: readonly number[] };

export interface OpDef {
  /** Logical output shape; throws ModelFormatError on anything invalid. */
  infer(ctx: NodeCtx): number[];
  /**
   * For an op whose node outputs all carry data (Split): the logical shape of each. Ops without
   * it have one output; their extra outputs (BN statistics, MaxPool indices) may not be read.
   */
  inferOutputs?(ctx: NodeCtx): number[][];
  compile(ctx: NodeCtx, own: Own): CompiledOp;
  rf(ctx: NodeCtx): RFStep;
  /**
   * The step for an input whose H and W sit at logical axes `spatial` other than the last two (a
   * map permuted by Transpose, as ConvNeXt's NHWC detour); ops without it give such inputs none.
   */
  rfPermuted?(ctx: NodeCtx, spatial: readonly [number, number]): RFStep;
}
