// Conv and ConvTranspose. Weights arrive OIHW (ConvTranspose: IOHW) and are converted once to
// the tfjs layouts. Dilated kernels are expanded with zeros at load time, because tfjs has no
// gradient for dilated convolutions; the result is the same function.
import * as tf from '@tensorflow/tfjs';
import { intAttr, intsAttr, nodeError, stringAttr, window2D, windowOutputSize, type Window2D } from '../attrs';
import { floatConstant, inputShape, padSpatial, positiveSize, tfPadding } from './common';
import { fastRelu, recordingGradients, reluGradient } from './pointwise';
import { maxPoolTiles } from './pool';
import type { CompiledOp, NodeCtx, OpDef, Own, RegionSource, RFStep } from './types';

/** Inserts dilation-1 zeros between kernel taps of an [A, B, kh, kw] kernel. */
function dilateKernel(data: Float32Array, shape: readonly number[], d: readonly [number, number]): { data: Float32Array; shape: number[] } {
  const [a, b, kh, kw] = shape;
  if (d[0] === 1 && d[1] === 1) return { data, shape: [...shape] };
  const eh = (kh - 1) * d[0] + 1;
  const ew = (kw - 1) * d[1] + 1;
  const out = new Float32Array(a * b * eh * ew);
  for (let p = 0; p < a * b; p++) {
    for (let y = 0; y < kh; y++) {
      for (let x = 0; x < kw; x++) out[(p * eh + y * d[0]) * ew + x * d[1]] = data[(p * kh + y) * kw + x];
    }
  }
  return { data: out, shape: [a, b, eh, ew] };
}

function group(ctx: NodeCtx): number {
  const g = intAttr(ctx.node, 'group', 1);
  if (g < 1) throw nodeError(ctx.node, `group ${g} must be at least 1`);
  return g;
}

function windowRF(ctx: NodeCtx, kernel: [number, number], kind: 'window' | 'transposed-window'): RFStep {
  const x = ctx.shapes[0];
  const w = window2D(ctx.node, [x[2], x[3]], kernel);
  const axis = (a: 0 | 1) => ({ kernel: w.kernel[a], stride: w.strides[a], dilation: w.dilations[a], padBegin: w.padsBegin[a] });
  return { kind, y: axis(0), x: axis(1) };
}

function weightKernel(ctx: NodeCtx): [number, number] {
  const s = floatConstant(ctx, 1, 'the weight tensor').shape;
  return [s[2], s[3]];
}

/**
 * What a conv absorbs from the nodes after it: a per-channel affine map (a batch norm), a ReLU,
 * and after the ReLU a max pool whose windows tile its input (its kernel).
 */
export interface ConvEpilogue {
  scale?: Float32Array;
  shift?: Float32Array;
  relu?: boolean;
  pool?: [number, number];
}

/**
 * A Conv, optionally with a following batch norm folded into its weights and bias and a ReLU
 * fused into the kernel; the executor uses the folded form when the intermediate tensors are not
 * asked for.
 */
export function compileConv(ctx: NodeCtx, own: Own, post: ConvEpilogue = {}): CompiledOp {
  const node = ctx.node;
  const w = floatConstant(ctx, 1, 'the weight tensor');
  const [o, cg, kh, kw] = w.shape;
  const g = group(ctx);
  const cin = cg * g;
  const dil = window2D(node, [ctx.shapes[0][2], ctx.shapes[0][3]], [kh, kw]).dilations;
  const k = dilateKernel(w.data, w.shape, dil);
  let biasData = ctx.has(2) ? floatConstant(ctx, 2, 'the bias').data : undefined;
  if (post.scale && post.shift) {
    const { scale, shift } = post;
    const per = k.data.length / o;
    k.data = k.data.map((v, i) => v * scale[Math.floor(i / per)]);
    biasData = shift.map((b, c) => b + (biasData ? biasData[c] * scale[c] : 0));
  }
  const bias = biasData ? own(tf.tensor1d(biasData)) : undefined;
  const depthwise = g > 1 && g === cin && cg === 1;
  // tfjs kernels: conv2d [kh, kw, in, out]; depthwise [kh, kw, in, multiplier].
  const filters = tf.tidy(() => {
    const oihw = tf.tensor4d(k.data, k.shape as [number, number, number, number]);
    if (depthwise) return [tf.transpose(tf.reshape(oihw, [cin, o / cin, k.shape[2], k.shape[3]]), [2, 3, 0, 1])];
    return tf.split(oihw, g, 0).map((part) => tf.transpose(part, [2, 3, 1, 0]));
  }).map((f) => own(f as tf.Tensor4D));
  // The input gradient of a stride-1 convolution, as the forward convolution of the output
  // gradient with the kernel rotated by 180 degrees and in/out swapped; made on first use.
  let rotated: tf.Tensor4D | null = null;
  const rotatedFilter = () => (rotated ??= own(tf.tidy(() => tf.transpose(tf.reverse(filters[0], [0, 1]), [0, 1, 3, 2]))));
  // [kh kw in, out]: the filter as a matrix over flattened input windows; made on first use.
  let flat: tf.Tensor2D | null = null;
  const flatFilter = () => (flat ??= own(tf.reshape(filters[0], [-1, o]) as tf.Tensor2D));
  // Its columns (and transposed, rows) and biases of the channels asked for last: a batch of
  // units asks for the same ones at every step.
  let picked: { key: string; product: WindowProduct } | null = null;
  const pickedChannels = (channels: readonly number[] | undefined): WindowProduct => {
    const key = channels?.join(',') ?? 'all';
    if (picked?.key !== key) {
      if (picked) tf.dispose(Object.values(picked.product).filter((t) => t instanceof tf.Tensor));
      const columns = own(channels ? tf.gather(flatFilter(), [...channels], 1) : tf.clone(flatFilter()));
      const rows = own(tf.transpose(columns));
      const b = bias && own(channels ? tf.gather(bias, [...channels]) : tf.clone(bias));
      picked = { key, product: { columns, rows, bias: b, relu: post.relu === true } };
    }
    return picked.product;
  };

  return {
    inputs: [0],
    run: ([input]) => {
      let x = input as tf.Tensor4D;
      const inHW: [number, number] = [x.shape[1], x.shape[2]];
      const win: Window2D = { ...window2D(node, inHW, [kh, kw]), dilations: [1, 1] };
      win.kernel = [k.shape[2], k.shape[3]];
      const mode = tfPadding(win, inHW);
      if (mode === 'explicit') x = padSpatial(x, win);
      return convolve(x, win.strides, mode === 'explicit' ? 'valid' : mode);
    },
    // A pooled output has no unit of the conv at any one position.
    ...(post.pool ? {} : { at }),
  };

  function at(input: tf.Tensor | RegionSource, [py, px]: readonly [number, number], channels?: readonly number[]): tf.Tensor {
    // The input window of output (py, px), zero where it reaches over the padded border.
    const [, h, w] = input.shape;
    const win = window2D(node, [h, w], [kh, kw]);
    const span = [k.shape[2], k.shape[3]];
    const start = [py * win.strides[0] - win.padsBegin[0], px * win.strides[1] - win.padsBegin[1]];
    const lo: [number, number] = [Math.max(0, start[0]), Math.max(0, start[1])];
    const hi = [Math.min(h, start[0] + span[0]), Math.min(w, start[1] + span[1])];
    if (hi[0] <= lo[0] || hi[1] <= lo[1]) throw nodeError(node, `output position (${py}, ${px}) reads no input`);
    const border: [number, number][] = [[0, 0], [lo[0] - start[0], start[0] + span[0] - hi[0]], [lo[1] - start[1], start[1] + span[1] - hi[1]], [0, 0]];
    const size: [number, number] = [hi[0] - lo[0], hi[1] - lo[1]];
    const cut = 'cut' in input ? input.cut(lo, size) : tf.slice(input as tf.Tensor4D, [0, lo[0], lo[1], 0], [-1, size[0], size[1], -1]);
    if (g === 1) return windowProduct(cut, border, pickedChannels(channels));
    const all = convolve(border.some(([a, b]) => a > 0 || b > 0) ? tf.pad(cut, border) : cut, [1, 1], 'valid');
    return channels ? tf.gather(all, [...channels], 3) : all;
  }

  function convolve(x: tf.Tensor4D, strides: [number, number], pad: 'valid' | 'same'): tf.Tensor4D {
    const { pool } = post;
    if (!recordingGradients()) {
      // Forward only: one fused kernel for conv, bias and ReLU.
      const activation = post.relu ? 'relu' : 'linear';
      if (depthwise) return pooled(tf.fused.depthwiseConv2d({ x, filter: filters[0], strides, pad, bias, activation }));
      if (g === 1) return pooled(tf.fused.conv2d({ x, filter: filters[0], strides, pad, bias, activation }));
    }
    // Under a gradient tape the plain ops: their gradients skip the weights (constants), where
    // the fused op's gradient computes the filter's too, and fastRelu's is cheaper than tfjs's.
    let y: tf.Tensor4D;
    const oddKernel = k.shape[2] % 2 === 1 && k.shape[3] % 2 === 1;
    if (g === 1 && strides[0] === 1 && strides[1] === 1 && (pad === 'valid' || oddKernel)) {
      if (!pool || !post.relu) return pooled(unitStrideConv(x, filters[0], rotatedFilter, pad, bias, post.relu === true));
      // The maximum commutes with adding a per-channel bias and with the ReLU: both (and the
      // ReLU's gradient) then run on the pooled quarter, and the pool routes its gradient by
      // comparing the conv's outputs, which unlike ReLU outputs tie at no zeros.
      return biasRelu(maxPoolTiles(unitStrideConv(x, filters[0], rotatedFilter, pad, undefined, false), pool), bias);
    }
    if (depthwise) y = tf.depthwiseConv2d(x, filters[0], strides, pad);
    else if (g === 1) y = tf.conv2d(x, filters[0], strides, pad);
    else y = tf.concat(tf.split(x, g, 3).map((xi, i) => tf.conv2d(xi as tf.Tensor4D, filters[i], strides, pad)), 3);
    if (bias) y = tf.add(y, bias);
    return pooled(post.relu ? (fastRelu(y) as tf.Tensor4D) : y);
  }

  function pooled(y: tf.Tensor4D): tf.Tensor4D {
    return post.pool ? maxPoolTiles(y, post.pool) : y;
  }
}

/** relu(x + bias) as one taped op whose gradient is the ReLU's alone (the bias is a constant). */
function biasRelu(x: tf.Tensor4D, bias: tf.Tensor1D | undefined): tf.Tensor4D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const y = tf.relu(bias ? tf.add(args[0] as tf.Tensor, bias) : (args[0] as tf.Tensor));
    (args[1] as tf.GradSaveFunc)([y]);
    return { value: y, gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) => reluGradient(dy, saved) };
  });
  return op(x) as tf.Tensor4D;
}

/** A convolution at one position as a matrix product: the flattened filter's columns (and rows). */
interface WindowProduct {
  columns: tf.Tensor2D;
  rows: tf.Tensor2D;
  bias?: tf.Tensor1D;
  relu: boolean;
}

/**
 * One output position of a convolution, [N, 1, 1, K], as one taped op on the in-range part of its
 * input window (`cut`, zero over the padded `border`): the window flattened, times the filter's
 * columns, with bias and ReLU. A matrix product costs less here than a convolution kernel, which
 * spends more on reordering its weights than on the arithmetic. The gradient goes back through
 * the filter's rows; for one channel as a broadcast product, since a matrix product's fixed cost
 * is most of its time at that size.
 */
function windowProduct(cut: tf.Tensor4D, border: [number, number][], { columns, rows, bias, relu }: WindowProduct): tf.Tensor4D {
  const [n, h, w, c] = cut.shape;
  const k = columns.shape[1];
  const padded = border.some(([a, b]) => a > 0 || b > 0);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const window = padded ? tf.pad(args[0] as tf.Tensor4D, border) : (args[0] as tf.Tensor4D);
    let y = tf.matMul(tf.reshape(window, [n, -1]), columns);
    if (bias) y = tf.add(y, bias);
    if (relu) {
      y = tf.relu(y);
      (args[1] as tf.GradSaveFunc)([y]);
    }
    return {
      value: tf.reshape(y, [n, 1, 1, k]),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        let dz = tf.reshape(dy, [n, k]);
        if (relu) dz = reluGradient(dz, saved[0]);
        const dWindow = tf.reshape(k === 1 ? tf.mul(dz, rows) : tf.matMul(dz, rows), [n, h + border[1][0] + border[1][1], w + border[2][0] + border[2][1], c]);
        return padded ? tf.slice(dWindow, [0, border[1][0], border[2][0], 0], [n, h, w, c]) : dWindow;
      },
    };
  });
  return op(cut) as tf.Tensor4D;
}

/**
 * conv2d at stride 1, with its bias and ReLU, as one taped op whose input gradient is computed as
 * a forward convolution: TensorFlow's CPU Conv2DBackpropInput takes about twice as long as Conv2D
 * for the same arithmetic (in a batched VGG gradient step, half the kernel time). Not where the
 * input has fewer channels than AVX-512's 16-channel blocks (an image's 3): that forward
 * convolution's few output channels run at a tenth of its speed, and Conv2DBackpropInput is 3 to 4
 * times faster (VGG-19 conv1_1 at 96 images of 26 px: 2.1-3.4 ms against 8.9-11.7). One op
 * instead of three also spares the tape's copies of their inputs and the gradient of the bias,
 * a constant. 'same' (odd kernel) stays 'same'; 'valid' needs the output gradient padded by
 * kernel - 1 on every side (the 'full' convolution).
 */
function unitStrideConv(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  rotated: () => tf.Tensor4D,
  pad: 'same' | 'valid',
  bias: tf.Tensor1D | undefined,
  relu: boolean,
): tf.Tensor4D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const y = tf.fused.conv2d({ x: args[0] as tf.Tensor4D, filter, strides: 1, pad, bias, activation: relu ? 'relu' : 'linear' });
    if (relu) (args[1] as tf.GradSaveFunc)([y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const dz = (relu ? reluGradient(dy, saved[0]) : dy) as tf.Tensor4D;
        const [kh, kw, inChannels] = filter.shape;
        if (inChannels < 16) return tf.conv2dTranspose(dz, filter, x.shape, 1, pad);
        if (pad === 'same') return tf.conv2d(dz, rotated(), 1, 'same');
        return tf.conv2d(tf.pad(dz, [[0, 0], [kh - 1, kh - 1], [kw - 1, kw - 1], [0, 0]]), rotated(), 1, 'valid');
      },
    };
  });
  return op(x) as tf.Tensor4D;
}

export const conv: OpDef = {
  infer(ctx) {
    const x = inputShape(ctx, 0, [4], 'the input');
    const w = floatConstant(ctx, 1, 'the weight tensor');
    if (w.shape.length !== 4) throw nodeError(ctx.node, `weights have shape [${w.shape.join(', ')}]; only 2-D convolutions are supported`);
    const [o, cg, kh, kw] = w.shape;
    const g = group(ctx);
    if (x[1] % g !== 0 || o % g !== 0 || x[1] / g !== cg) {
      throw nodeError(ctx.node, `weights [${w.shape.join(', ')}] with group ${g} do not fit an input of ${x[1]} channels`);
    }
    if (ctx.has(2)) floatConstant(ctx, 2, 'the bias', [o]);
    const win = window2D(ctx.node, [x[2], x[3]], [kh, kw]);
    const h = positiveSize(ctx, windowOutputSize(win, 0, x[2]), x[2], x[3]);
    return [x[0], o, h, positiveSize(ctx, windowOutputSize(win, 1, x[3]), x[2], x[3])];
  },

  compile: (ctx, own) => compileConv(ctx, own),

  rf: (ctx) => windowRF(ctx, weightKernel(ctx), 'window'),
};

function transposeGeometry(ctx: NodeCtx): { outputPadding: [number, number] } {
  const node = ctx.node;
  if (node.attrs.output_shape) throw nodeError(node, 'the output_shape attribute is not supported; give pads instead');
  const autoPad = stringAttr(node, 'auto_pad', 'NOTSET');
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID') throw nodeError(node, `auto_pad ${autoPad} is not supported; give pads instead`);
  const op = intsAttr(node, 'output_padding', [0, 0]);
  if (op.length !== 2 || op.some((v) => !(v >= 0 && v < 4096))) throw nodeError(node, `output_padding [${op.join(', ')}] is invalid`);
  return { outputPadding: [op[0], op[1]] };
}

function transposedSize(w: Window2D, a: 0 | 1, inSize: number, outputPadding: number): number {
  const span = (w.kernel[a] - 1) * w.dilations[a] + 1;
  return w.strides[a] * (inSize - 1) + outputPadding + span - w.padsBegin[a] - w.padsEnd[a];
}

export const convTranspose: OpDef = {
  infer(ctx) {
    const x = inputShape(ctx, 0, [4], 'the input');
    const w = floatConstant(ctx, 1, 'the weight tensor');
    if (w.shape.length !== 4) throw nodeError(ctx.node, `weights have shape [${w.shape.join(', ')}]; only 2-D convolutions are supported`);
    const [cin, og, kh, kw] = w.shape;
    const g = group(ctx);
    if (cin !== x[1] || cin % g !== 0) {
      throw nodeError(ctx.node, `weights [${w.shape.join(', ')}] with group ${g} do not fit an input of ${x[1]} channels`);
    }
    if (ctx.has(2)) floatConstant(ctx, 2, 'the bias', [og * g]);
    const { outputPadding } = transposeGeometry(ctx);
    const win = window2D(ctx.node, [x[2], x[3]], [kh, kw]);
    const h = positiveSize(ctx, transposedSize(win, 0, x[2], outputPadding[0]), x[2], x[3]);
    return [x[0], og * g, h, positiveSize(ctx, transposedSize(win, 1, x[3], outputPadding[1]), x[2], x[3])];
  },

  compile(ctx, own: Own) {
    const node = ctx.node;
    const w = floatConstant(ctx, 1, 'the weight tensor');
    const [, og, kh, kw] = w.shape;
    const g = group(ctx);
    const { outputPadding } = transposeGeometry(ctx);
    const dil = window2D(node, [ctx.shapes[0][2], ctx.shapes[0][3]], [kh, kw]).dilations;
    const k = dilateKernel(w.data, w.shape, dil);
    const bias = ctx.has(2) ? own(tf.tensor1d(floatConstant(ctx, 2, 'the bias').data)) : undefined;
    // conv2dTranspose takes [kh, kw, out, in]: out[p*s + j, o] += x[p, c] * f[j, o, c].
    const filters = tf.tidy(() =>
      tf.split(tf.tensor4d(k.data, k.shape as [number, number, number, number]), g, 0).map((part) => tf.transpose(part, [2, 3, 1, 0])),
    ).map((f) => own(f as tf.Tensor4D));

    return {
      inputs: [0],
      run: ([input]) => {
        const x = input as tf.Tensor4D;
        const [n, h, wd] = x.shape;
        const win = window2D(node, [h, wd], [kh, kw]);
        const full: [number, number] = [(h - 1) * win.strides[0] + k.shape[2], (wd - 1) * win.strides[1] + k.shape[3]];
        const parts = (g === 1 ? [x] : tf.split(x, g, 3)).map((xi, i) =>
          tf.conv2dTranspose(xi as tf.Tensor4D, filters[i], [n, full[0], full[1], og], win.strides, 'valid'),
        );
        let y = g === 1 ? parts[0] : tf.concat(parts, 3);
        // output_padding extends the end; pads then crop both sides.
        y = tf.pad(y, [[0, 0], [0, outputPadding[0]], [0, outputPadding[1]], [0, 0]]);
        const outH = full[0] + outputPadding[0] - win.padsBegin[0] - win.padsEnd[0];
        const outW = full[1] + outputPadding[1] - win.padsBegin[1] - win.padsEnd[1];
        y = tf.slice(y, [0, win.padsBegin[0], win.padsBegin[1], 0], [n, outH, outW, og * g]);
        return bias ? tf.add(y, bias) : y;
      },
    };
  },

  rf: (ctx) => windowRF(ctx, weightKernel(ctx), 'transposed-window'),
};
