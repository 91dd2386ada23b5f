// Resize (and opset 10's form of it) of the H and W axes, nearest or (bi)linear, with ONNX's
// coordinate transformations. Each axis is resampled by gathering source rows (and, for linear,
// blending two of them), so the tfjs gradient is exact and every ONNX mode is one index rule.
import * as tf from '@tensorflow/tfjs';
import { intAttr, intsAttr, nodeError, stringAttr } from '../attrs';
import { inputShape } from './common';
import type { NodeCtx, OpDef } from './types';

const COORDINATE_MODES = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric'] as const;
const NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'] as const;

interface ResizeSpec {
  mode: 'nearest' | 'linear';
  coordinates: (typeof COORDINATE_MODES)[number];
  nearest: (typeof NEAREST_MODES)[number];
  /** Output H and W, fixed (sizes), or undefined to scale the input's. */
  sizes?: [number, number];
  /** Scale factors along H and W, when given instead of sizes. */
  scales?: [number, number];
}

function oneOf<T extends string>(ctx: NodeCtx, name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw nodeError(ctx.node, `${name} "${value}" is not supported (supported: ${allowed.join(', ')})`);
  return value as T;
}

/** The four per-axis numbers of `values`, checked to leave N and C alone; H and W returned. */
function spatialPair(ctx: NodeCtx, what: string, values: readonly number[], keep: readonly number[]): [number, number] {
  let v = [...values];
  if (ctx.node.attrs.axes) {
    const axes = intsAttr(ctx.node, 'axes').map((a) => (a < 0 ? a + 4 : a));
    if (axes.length !== values.length || axes.some((a) => a < 0 || a > 3)) throw nodeError(ctx.node, `axes do not match the ${what}`);
    v = [...keep];
    axes.forEach((a, k) => (v[a] = values[k]));
  }
  if (v.length !== 4) throw nodeError(ctx.node, `${v.length} ${what} for a rank-4 input`);
  // Sizes name the batch of the export, which the batch of each run replaces.
  if ((what === 'scales' && v[0] !== keep[0]) || v[1] !== keep[1]) throw nodeError(ctx.node, `resizing the batch or channel axis (${what} [${v.join(', ')}]) is not supported`);
  if (!(v[2] > 0 && v[3] > 0)) throw nodeError(ctx.node, `${what} [${v.join(', ')}] must be positive`);
  return [v[2], v[3]];
}

function resizeSpec(ctx: NodeCtx): ResizeSpec {
  const x = ctx.shapes[0];
  const node = ctx.node;
  const mode = oneOf(ctx, 'mode', stringAttr(node, 'mode', 'nearest'), ['nearest', 'linear'] as const);
  // Opset 10 Resize (and Upsample) place pixels asymmetrically.
  const coordinates = oneOf(ctx, 'coordinate_transformation_mode', stringAttr(node, 'coordinate_transformation_mode', ctx.opset < 11 ? 'asymmetric' : 'half_pixel'), COORDINATE_MODES);
  const nearest = oneOf(ctx, 'nearest_mode', stringAttr(node, 'nearest_mode', 'round_prefer_floor'), NEAREST_MODES);
  if (intAttr(node, 'antialias', 0) !== 0) throw nodeError(node, 'antialias is not supported');
  if (stringAttr(node, 'keep_aspect_ratio_policy', 'stretch') !== 'stretch') throw nodeError(node, 'keep_aspect_ratio_policy other than stretch is not supported');
  const scalesAt = ctx.opset < 11 ? 1 : 2;
  const sizes = ctx.opset >= 11 && ctx.has(3) ? ctx.constant(3) : undefined;
  const scales = ctx.has(scalesAt) ? ctx.constant(scalesAt) : undefined;
  if (sizes && sizes.data.length > 0) {
    if (sizes.dtype !== 'int64') throw nodeError(node, 'the sizes must be integers');
    const hw = spatialPair(ctx, 'sizes', Array.from(sizes.data), [x[0], x[1]]);
    return { mode, coordinates, nearest, sizes: hw };
  }
  if (!scales || scales.data.length === 0) throw nodeError(node, 'neither constant scales nor constant sizes are given');
  if (scales.dtype !== 'float32') throw nodeError(node, 'the scales must be floats');
  return { mode, coordinates, nearest, scales: spatialPair(ctx, 'scales', Array.from(scales.data), [1, 1]) };
}

/** Output H and W for an input of `inH` x `inW`. */
function outputSize(spec: ResizeSpec, inH: number, inW: number): [number, number] {
  return spec.sizes ?? [Math.floor(inH * spec.scales![0]), Math.floor(inW * spec.scales![1])];
}

/** Source coordinate of each output position along one axis, as ONNX transforms it. */
function sourceCoordinates(spec: ResizeSpec, inSize: number, outSize: number, scale: number): number[] {
  return Array.from({ length: outSize }, (_, i) => {
    switch (spec.coordinates) {
      case 'half_pixel':
        return (i + 0.5) / scale - 0.5;
      case 'pytorch_half_pixel':
        return outSize > 1 ? (i + 0.5) / scale - 0.5 : 0;
      case 'align_corners':
        return outSize > 1 ? (i * (inSize - 1)) / (outSize - 1) : 0;
      case 'asymmetric':
        return i / scale;
    }
  });
}

function roundNearest(mode: ResizeSpec['nearest'], v: number): number {
  switch (mode) {
    case 'floor':
      return Math.floor(v);
    case 'ceil':
      return Math.ceil(v);
    case 'round_prefer_ceil':
      return Math.round(v);
    case 'round_prefer_floor':
      return v === Math.floor(v) + 0.5 ? Math.floor(v) : Math.round(v);
  }
}

/** Resamples stored axis `axis` (1: H, 2: W) of an NHWC tensor to `outSize` positions. */
function resampleAxis(x: tf.Tensor4D, axis: 1 | 2, spec: ResizeSpec, outSize: number, scale: number): tf.Tensor4D {
  const inSize = x.shape[axis];
  const clamp = (i: number) => Math.min(inSize - 1, Math.max(0, i));
  const coords = sourceCoordinates(spec, inSize, outSize, scale);
  if (spec.mode === 'nearest') return tf.gather(x, coords.map((c) => clamp(roundNearest(spec.nearest, c))), axis);
  const at = coords.map((c) => Math.min(inSize - 1, Math.max(0, c)));
  const lo = at.map(Math.floor);
  const weightShape = axis === 1 ? [1, outSize, 1, 1] : [1, 1, outSize, 1];
  const below = tf.gather(x, lo, axis);
  const above = tf.gather(x, lo.map((i) => clamp(i + 1)), axis);
  return tf.add(below, tf.mul(tf.sub(above, below), tf.tensor(at.map((c, k) => c - lo[k]), weightShape)));
}

export const resize: OpDef = {
  infer(ctx) {
    const x = inputShape(ctx, 0, [4], 'the input');
    if (ctx.constant(0)) throw nodeError(ctx.node, 'resizing a constant is not supported');
    const [h, w] = outputSize(resizeSpec(ctx), x[2], x[3]);
    if (h < 1 || w < 1) throw nodeError(ctx.node, `the output would be ${h}x${w}`);
    return [x[0], x[1], h, w];
  },
  compile(ctx) {
    const spec = resizeSpec(ctx);
    return {
      inputs: [0],
      run: ([input]) => {
        const x = input as tf.Tensor4D;
        const [h, w] = [x.shape[1], x.shape[2]];
        const [outH, outW] = outputSize(spec, h, w);
        // With fixed sizes, ONNX's scale is output / input.
        const [sh, sw] = spec.scales ?? [outH / h, outW / w];
        return resampleAxis(resampleAxis(x, 1, spec, outH, sh), 2, spec, outW, sw);
      },
    };
  },
  // Units of a resized map do not sit on a whole-pixel grid of the input's units (jumps shrink by
  // the scale and half-pixel modes shift them), which the window RF steps cannot state; none is given.
  rf: () => ({ kind: 'global' }),
};
