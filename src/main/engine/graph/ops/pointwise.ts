// Elementwise operators: activations, elementwise math, Clip, Identity/Dropout, and the
// broadcasting binary ops.
import * as tf from '@tensorflow/tfjs';
import { floatAttr, nodeError, stringAttr } from '../attrs';
import { liftToRank4 } from '../layout';
import { broadcastShapes, inputShape, scalarConstant, storedConstant } from './common';
import type { NodeCtx, OpDef, RFStep } from './types';

const pointwise = (): RFStep => ({ kind: 'pointwise' });
const ANY_RANK = [1, 2, 3, 4];
/** Binary operands may also be scalars. */
const OPERAND_RANK = [0, ...ANY_RANK];

function unary(fn: (ctx: NodeCtx) => (x: tf.Tensor) => tf.Tensor, check?: (ctx: NodeCtx) => void): OpDef {
  return {
    infer(ctx) {
      check?.(ctx);
      return [...inputShape(ctx, 0, ANY_RANK, 'the input')];
    },
    compile(ctx) {
      const f = fn(ctx);
      return { inputs: [0], run: ([x]) => f(x) };
    },
    rf: pointwise,
    rfPermuted: pointwise,
  };
}

/**
 * ReLU with the gradient dy * (y > 0). tfjs differentiates tf.relu through its Step kernel,
 * which tfjs-node builds from five full-size ops (IsNan, Greater, Fill, two Selects); in a
 * batched VGG input-gradient step that was about a third of the time, growing faster than the
 * batch.
 */
export const fastRelu = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x = args[0] as tf.Tensor;
  const save = args[1] as tf.GradSaveFunc;
  const y = tf.relu(x);
  save([y]);
  return { value: y, gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) => reluGradient(dy, saved) };
}) as (x: tf.Tensor) => tf.Tensor;

/** The libtensorflow backend's direct op call (tfjs-node and tfjs-node-gpu), for ops tfjs does not expose. */
interface TensorFlowBackend {
  binding: { TF_ATTR_TYPE: number; TF_FLOAT: number };
  executeSingleOutput(name: string, attrs: { name: string; type: number; value: unknown }[], inputs: tf.Tensor[]): tf.Tensor;
}

function tensorflowBackend(): TensorFlowBackend | null {
  if (tf.getBackend() !== 'tensorflow') return null;
  const b = tf.backend() as unknown as Partial<TensorFlowBackend>;
  return typeof b.executeSingleOutput === 'function' && b.binding ? (b as TensorFlowBackend) : null;
}

/** A libtensorflow op whose one type attribute T is float32. */
function floatOp(native: TensorFlowBackend, name: string, inputs: tf.Tensor[]): tf.Tensor {
  return native.executeSingleOutput(name, [{ name: 'T', type: native.binding.TF_ATTR_TYPE, value: native.binding.TF_FLOAT }], inputs);
}

/**
 * dy where the ReLU's output y is positive, else 0. On libtensorflow, its ReluGrad kernel: one
 * pass, half the time of the portable form, dy * sign(y) (sign(y) is that mask for y >= 0).
 */
export function reluGradient(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  const native = dy.dtype === 'float32' && y.dtype === 'float32' && tf.util.arraysEqual(dy.shape, y.shape) ? tensorflowBackend() : null;
  if (native) return floatOp(native, 'ReluGrad', [dy, y]);
  return tf.mul(dy, tf.sign(y));
}

/**
 * dy where `a` equals `b`, else 0, all three broadcast together. On libtensorflow one SelectV2
 * on the comparison: a full-size pass fewer than the portable form, the cast mask times dy.
 */
export function whereEqual(a: tf.Tensor, b: tf.Tensor, dy: tf.Tensor): tf.Tensor {
  const native = dy.dtype === 'float32' ? tensorflowBackend() : null;
  if (!native) return tf.mul(tf.cast(tf.equal(a, b), 'float32'), dy);
  return tf.tidy(() => floatOp(native, 'SelectV2', [tf.equal(a, b), dy, tf.scalar(0)]));
}

export const relu = unary(() => fastRelu);

/** True inside tf.grad / variableGrads: ops run there are taped for a backward pass. */
export function recordingGradients(): boolean {
  // The engine's gradient depth, which tfjs's own fused ops read to decide the same question.
  return (tf.engine() as unknown as { state: { gradientDepth: number } }).state.gradientDepth > 0;
}
export const sigmoid = unary(() => tf.sigmoid);
export const tanh = unary(() => tf.tanh);
export const leakyRelu = unary((ctx) => {
  const alpha = floatAttr(ctx.node, 'alpha', 0.01);
  return (x) => tf.leakyRelu(x, alpha);
});

export const erf = unary(() => tf.erf);
export const sqrt = unary(() => tf.sqrt);
export const exp = unary(() => tf.exp);
export const neg = unary(() => tf.neg);
export const reciprocal = unary(() => tf.reciprocal);

/** max(0, min(1, alpha * x + beta)), as HardSigmoid and (with alpha 1/6, beta 1/2) HardSwish use it. */
function hardSigmoidOf(x: tf.Tensor, alpha: number, beta: number): tf.Tensor {
  return tf.clipByValue(tf.add(tf.mul(x, alpha), beta), 0, 1);
}

export const hardSigmoid = unary((ctx) => {
  const alpha = floatAttr(ctx.node, 'alpha', 0.2);
  const beta = floatAttr(ctx.node, 'beta', 0.5);
  return (x) => hardSigmoidOf(x, alpha, beta);
});
export const hardSwish = unary(() => (x) => tf.mul(x, hardSigmoidOf(x, 1 / 6, 0.5)));

function geluApproximation(ctx: NodeCtx): 'none' | 'tanh' {
  const a = stringAttr(ctx.node, 'approximate', 'none');
  if (a !== 'none' && a !== 'tanh') throw nodeError(ctx.node, `approximate "${a}" is not none or tanh`);
  return a;
}

/** x * Phi(x) with the exact normal CDF, or its tanh approximation (opset 20). */
export const gelu = unary(
  (ctx) =>
    geluApproximation(ctx) === 'none'
      ? (x) => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1))
      : (x) => tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI))), 1)),
  (ctx) => void geluApproximation(ctx),
);

/** Identity and inference-mode Dropout: a new handle on the same data. */
export const identity = unary(() => (x) => tf.clone(x));

function clipBounds(ctx: NodeCtx): [number, number] {
  // Opset < 11 gives the bounds as attributes, later ones as optional constant inputs.
  const lo = ctx.opset < 11 ? floatAttr(ctx.node, 'min', -Infinity) : scalarConstant(ctx, 1, 'the min bound', -Infinity);
  const hi = ctx.opset < 11 ? floatAttr(ctx.node, 'max', Infinity) : scalarConstant(ctx, 2, 'the max bound', Infinity);
  if (!(lo <= hi)) throw nodeError(ctx.node, `min ${lo} is above max ${hi}`);
  return [lo, hi];
}

export const clip = unary(
  (ctx) => {
    const [lo, hi] = clipBounds(ctx);
    return (x) => tf.clipByValue(x, lo, hi);
  },
  (ctx) => void clipBounds(ctx),
);

type Binary = (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/**
 * Add/Sub/Mul/Div with numpy broadcasting. An operand of lower rank than a rank-4 result is
 * lifted to the stored NHWC layout (a per-channel bias [C,1,1] becomes [1,1,1,C]).
 */
function binary(fn: Binary): OpDef {
  return {
    infer(ctx) {
      const a = inputShape(ctx, 0, OPERAND_RANK, 'the first operand');
      const b = inputShape(ctx, 1, OPERAND_RANK, 'the second operand');
      const out = broadcastShapes(a, b);
      if (!out) throw nodeError(ctx.node, `shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`);
      if (out.length > 4) throw nodeError(ctx.node, `results of rank ${out.length} are not supported`);
      for (const i of [0, 1]) if (ctx.constant(i)?.dtype === 'int64') throw nodeError(ctx.node, 'integer operands are not supported');
      return out;
    },
    compile(ctx, own) {
      const outRank = Math.max(ctx.shapes[0].length, ctx.shapes[1].length);
      const lift = (t: tf.Tensor) => (outRank === 4 && t.rank < 4 ? liftToRank4(t) : t);
      const fixed = [0, 1].map((i) => {
        const c = ctx.constant(i);
        return c ? own(tf.tidy(() => lift(storedConstant(c)))) : undefined;
      });
      const inputs = [0, 1].filter((i) => !fixed[i]);
      return {
        inputs,
        run: (xs) => {
          let k = 0;
          const [a, b] = fixed.map((f) => f ?? lift(xs[k++]));
          return fn(a, b);
        },
      };
    },
    // Per position in any layout: a constant operand brings no image content.
    rf: pointwise,
    rfPermuted: pointwise,
  };
}

export const add = binary(tf.add);
export const sub = binary(tf.sub);
export const mul = binary(tf.mul);
export const div = binary(tf.div);
export const pow = binary(tf.pow);
