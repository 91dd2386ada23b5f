// Keras layer configs (the `model_config` of an H5 file, the `modelTopology` of a TensorFlow.js
// layers model) to the format-neutral graph: ONNX operators, NCHW tensors, OIHW kernels. Keras
// is channels-last throughout, so kernels are transposed here, a Flatten in front of a Dense is
// undone by permuting the Dense rows, and 'same' padding becomes ONNX's SAME_UPPER, which is
// TensorFlow's rule (the odd pixel of padding goes at the end). Sequential and Functional configs
// of Keras 2 (inbound nodes as [layer, node, tensor, kwargs] lists) and Keras 3 ({args, kwargs}) are read.
import { isObject } from '../../../shared/json';
import { ModelFormatError } from '../errors';
import type { AttrValue, ConstTensor, GraphDescription, GraphInput, GraphNode } from '../graph/ir';

/** One stored weight array, channels-last as Keras keeps it. */
export interface KerasArray {
  shape: number[];
  data: Float32Array;
}

/** A layer's weights by their short Keras name: kernel, bias, gamma, moving_mean, depthwise_kernel... */
export type LayerWeights = ReadonlyMap<string, KerasArray>;

/** What the converter knows of a tensor: its rank and channels, and whether it is a channels-last flattening. */
interface TensorInfo {
  rank: 2 | 4;
  channels: number;
  /** Channel count of the NHWC tensor this one flattens (its element order is NHWC, not NCHW). */
  flattenedFrom?: number;
}

type Json = Record<string, unknown>;

const OPSET = 13;
/** Layers that only act in training. */
const INFERENCE_IDENTITY = new Set(['Dropout', 'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'ActivityRegularization']);
/** Classes whose layers hold weights (the order of weighted layers is what weights-only files follow). */
export const WEIGHTED_LAYERS = new Set(['Conv2D', 'DepthwiseConv2D', 'Dense', 'BatchNormalization']);

export const SUPPORTED_LAYERS = [
  'InputLayer', 'Conv2D', 'DepthwiseConv2D', 'Dense', 'BatchNormalization', 'Activation', 'ReLU', 'Softmax',
  'MaxPooling2D', 'AveragePooling2D', 'GlobalAveragePooling2D', 'ZeroPadding2D', 'Flatten', 'Reshape', 'Add',
  'Concatenate', ...INFERENCE_IDENTITY,
];

export interface KerasLayer {
  name: string;
  className: string;
  config: Json;
  /** Names of the layers whose (first) output this layer reads; empty for an input. */
  inbound: string[];
}

export interface KerasModel {
  name: string;
  layers: KerasLayer[];
  inputs: string[];
  outputs: string[];
}

/**
 * Reads a Keras model config ({class_name, config}) into layers in file order with their inputs.
 * `fail` throws the reader's error (naming the file).
 */
export function readKerasModel(modelConfig: unknown, fail: (msg: string) => never): KerasModel {
  if (!isObject(modelConfig)) return fail('the model config is not a JSON object');
  const cls = String(modelConfig.class_name ?? '');
  const cfg = modelConfig.config;
  if (!cls) return fail('the model config has no class_name; it is no Keras model');
  if (cls === 'Sequential') return readSequential(cfg, fail);
  if (cls !== 'Model' && cls !== 'Functional') return fail(`the model class "${cls}" is not supported (Sequential and Functional models are)`);
  if (!isObject(cfg) || !Array.isArray(cfg.layers)) return fail('the model config has no layer list');
  const layers = cfg.layers.map((l, i) => readLayer(l, i, fail));
  return { name: String(cfg.name ?? 'model'), layers, inputs: endpoints(cfg.input_layers, 'input', fail), outputs: endpoints(cfg.output_layers, 'output', fail) };
}

function readLayer(l: unknown, i: number, fail: (msg: string) => never): KerasLayer {
  if (!isObject(l) || !isObject(l.config)) return fail(`layer #${i} is not a layer config`);
  const name = String(l.name ?? l.config.name ?? '');
  if (!name) fail(`layer #${i} has no name`);
  return { name, className: String(l.class_name ?? ''), config: l.config, inbound: inboundLayers(l.inbound_nodes, name, fail) };
}

/** Keras 2: [[["conv1", 0, 0, {}], ...]]; Keras 3: [{args: [...tensors], kwargs}]. One call per layer. */
function inboundLayers(nodes: unknown, layer: string, fail: (msg: string) => never): string[] {
  if (nodes === undefined || (Array.isArray(nodes) && nodes.length === 0)) return [];
  if (!Array.isArray(nodes)) return fail(`layer ${layer} has unreadable inbound nodes`);
  if (nodes.length > 1) fail(`layer ${layer} is called ${nodes.length} times (shared layers are not supported)`);
  const node: unknown = nodes[0];
  const found: string[] = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v) && typeof v[0] === 'string' && typeof v[1] === 'number') {
      if (v[1] !== 0 || (v[2] ?? 0) !== 0) fail(`layer ${layer} reads output ${v[1]}/${v[2]} of layer ${v[0]} (shared layers are not supported)`);
      found.push(v[0]);
    } else if (isObject(v) && v.class_name === '__keras_tensor__' && isObject(v.config)) {
      visit(v.config.keras_history);
    } else if (Array.isArray(v)) {
      v.forEach(visit);
    } else if (isObject(v) && 'args' in v) {
      visit(v.args);
    }
  };
  visit(node);
  if (found.length === 0) fail(`layer ${layer} has an inbound node without inputs`);
  return found;
}

function endpoints(spec: unknown, what: string, fail: (msg: string) => never): string[] {
  if (!Array.isArray(spec) || spec.length === 0) return fail(`the model config lists no ${what} layers`);
  const list = typeof spec[0] === 'string' ? [spec] : spec;
  return list.map((e: unknown) => {
    if (!Array.isArray(e) || typeof e[0] !== 'string') return fail(`the model's ${what} layers are unreadable`);
    return e[0];
  });
}

/** Keras 2.2 writes {name, layers}, older ones the bare list; the first layer may carry the input shape. */
function readSequential(cfg: unknown, fail: (msg: string) => never): KerasModel {
  const list = Array.isArray(cfg) ? cfg : isObject(cfg) && Array.isArray(cfg.layers) ? cfg.layers : fail('the Sequential model has no layer list');
  const layers = list.map((l, i) => readLayer(l, i, fail));
  if (layers.length === 0) fail('the Sequential model has no layers');
  if (layers[0].className !== 'InputLayer') {
    const shape = layers[0].config.batch_input_shape ?? layers[0].config.batch_shape;
    if (!shape) fail(`the first layer (${layers[0].name}) does not say its input shape`);
    layers.unshift({ name: `${layers[0].name}_input`, className: 'InputLayer', config: { batch_input_shape: shape }, inbound: [] });
  }
  layers.forEach((l, i) => (l.inbound = i === 0 ? [] : [layers[i - 1].name]));
  const name = isObject(cfg) ? String(cfg.name ?? 'sequential') : 'sequential';
  return { name, layers, inputs: [layers[0].name], outputs: [layers[layers.length - 1].name] };
}

/** The tensor holding a layer's output before its fused activation (the layer name is the activated output). */
export const linearName = (layer: string) => `${layer}/linear`;

/**
 * Builds the graph. `weightsOf(layer)` gives a weighted layer's arrays (undefined when the file has
 * none for it). Errors name `source` and the layer.
 */
export function kerasToGraph(model: KerasModel, weightsOf: (layer: string) => LayerWeights | undefined, source: string, metadata: Record<string, string> = {}): GraphDescription {
  const fail = (msg: string): never => {
    throw new ModelFormatError(`${source}: ${msg}`);
  };
  const b = new GraphBuilder();
  const info = new Map<string, TensorInfo>();
  const inputs: GraphInput[] = [];
  const byName = new Map(model.layers.map((l) => [l.name, l]));
  for (const name of [...model.inputs, ...model.outputs]) if (!byName.has(name)) fail(`the model's inputs/outputs name a layer "${name}" it does not have`);

  for (const layer of model.layers) {
    const what = `layer ${layer.name} (${layer.className})`;
    const lfail = (msg: string): never => fail(`${what}: ${msg}`);
    if (info.has(layer.name)) lfail('a layer of that name comes earlier; layer names must be unique');
    for (const i of layer.inbound) if (!info.has(i)) lfail(`reads layer "${i}", which is not defined before it`);
    const ins = layer.inbound.map((i) => ({ ...info.get(i)!, name: i }));
    if (layer.className === 'InputLayer') {
      const shape = layer.config.batch_input_shape ?? layer.config.batch_shape;
      if (!Array.isArray(shape) || shape.length !== 4) lfail(`input shape ${JSON.stringify(shape)} is not an image batch [N, H, W, C]`);
      const [, h, w, c] = shape as (number | null)[];
      if (c === null || !Number.isInteger(c)) lfail('the channel count of the input is not given');
      inputs.push({ name: layer.name, shape: [null, c, h ?? null, w ?? null] });
      info.set(layer.name, { rank: 4, channels: c! });
      continue;
    }
    if (ins.length === 0) lfail('has no inputs');
    const weights = WEIGHTED_LAYERS.has(layer.className) ? weightsOf(layer.name) : undefined;
    if (WEIGHTED_LAYERS.has(layer.className) && !weights) lfail('the file holds no weights for it');
    const ctx: LayerCtx = { layer, ins, weights: weights ?? new Map(), b, fail: lfail };
    const out = convertLayer(ctx);
    info.set(layer.name, out);
  }
  return { source, opset: OPSET, inputs, outputs: model.outputs, nodes: b.nodes, initializers: b.initializers, metadata };
}

interface LayerCtx {
  layer: KerasLayer;
  ins: (TensorInfo & { name: string })[];
  weights: LayerWeights;
  b: GraphBuilder;
  fail: (msg: string) => never;
}

/** Collects nodes and initializers; node names are their output tensor names. */
class GraphBuilder {
  readonly nodes: GraphNode[] = [];
  readonly initializers = new Map<string, ConstTensor>();

  node(op: string, inputs: string[], output: string, attrs: Record<string, AttrValue> = {}): string {
    this.nodes.push({ name: output, op, inputs, outputs: [output], attrs });
    return output;
  }

  float(name: string, shape: number[], data: Float32Array): string {
    this.initializers.set(name, { name, shape, dtype: 'float32', data });
    return name;
  }

  ints(name: string, values: number[]): string {
    this.initializers.set(name, { name, shape: [values.length], dtype: 'int64', data: Float64Array.from(values) });
    return name;
  }
}

const ints = (value: number[]): AttrValue => ({ kind: 'ints', value });
const int = (value: number): AttrValue => ({ kind: 'int', value });

function weight(ctx: LayerCtx, key: string, rank: number): KerasArray {
  const w = ctx.weights.get(key);
  if (!w) return ctx.fail(`weight "${key}" is missing (the file has ${[...ctx.weights.keys()].join(', ') || 'none'})`);
  if (w.shape.length !== rank) ctx.fail(`weight "${key}" has shape [${w.shape.join(', ')}], expected ${rank} dimensions`);
  return w;
}

function pair(ctx: LayerCtx, key: string, dflt?: number[]): [number, number] {
  const v = ctx.layer.config[key] ?? dflt;
  const p = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || !p.every((x) => Number.isInteger(x) && x >= 1)) return ctx.fail(`${key} ${JSON.stringify(v)} is not a pair of positive integers`);
  return [p[0], p[1]];
}

function checkChannelsLast(ctx: LayerCtx): void {
  const f = ctx.layer.config.data_format;
  if (f !== undefined && f !== null && f !== 'channels_last') ctx.fail(`data_format ${String(f)} is not supported (channels_last is)`);
}

/** 'valid' is no padding; 'same' pads as TensorFlow does, more at the end (ONNX SAME_UPPER). */
function paddingAttrs(ctx: LayerCtx): Record<string, AttrValue> {
  const p = ctx.layer.config.padding ?? 'valid';
  if (p === 'valid') return { pads: ints([0, 0, 0, 0]) };
  if (p === 'same') return { auto_pad: { kind: 'string', value: 'SAME_UPPER' } };
  return ctx.fail(`padding ${JSON.stringify(p)} is not supported ('valid' and 'same' are)`);
}

function single(ctx: LayerCtx): TensorInfo & { name: string } {
  if (ctx.ins.length !== 1) ctx.fail(`takes one input, got ${ctx.ins.length}`);
  return ctx.ins[0];
}

function spatial(ctx: LayerCtx): TensorInfo & { name: string } {
  const x = single(ctx);
  if (x.rank !== 4) ctx.fail('its input is not an image tensor [N, H, W, C]');
  checkChannelsLast(ctx);
  return x;
}

/** Appends the layer's activation to `pre`; the activated output is named after the layer. */
function activation(ctx: LayerCtx, pre: string, fn: unknown, rank: number): void {
  const name = ctx.layer.name;
  const b = ctx.b;
  // Keras 3 may serialize it as {class_name: 'function', config: 'relu'}.
  const kind = isObject(fn) ? (typeof fn.config === 'string' ? fn.config : fn.class_name) : fn;
  switch (kind ?? 'linear') {
    case 'linear':
      b.node('Identity', [pre], name);
      return;
    case 'relu':
      b.node('Relu', [pre], name);
      return;
    case 'relu6':
      b.node('Clip', [pre, b.float(`${name}/min`, [], Float32Array.of(0)), b.float(`${name}/max`, [], Float32Array.of(6))], name);
      return;
    case 'sigmoid':
      b.node('Sigmoid', [pre], name);
      return;
    case 'tanh':
      b.node('Tanh', [pre], name);
      return;
    case 'softmax':
      b.node('Softmax', [pre], name, { axis: int(rank === 4 ? 1 : -1) }); // over channels
      return;
    default:
      ctx.fail(`activation ${JSON.stringify(fn)} is not supported (linear, relu, relu6, sigmoid, tanh, softmax are)`);
  }
}

/** A layer's computation followed by its `activation` setting: the computation's output is `<layer>/linear` unless linear. */
function withActivation(ctx: LayerCtx, rank: number, emit: (output: string) => void): void {
  const fn = ctx.layer.config.activation ?? 'linear';
  if (fn === 'linear') {
    emit(ctx.layer.name);
    return;
  }
  emit(linearName(ctx.layer.name));
  activation(ctx, linearName(ctx.layer.name), fn, rank);
}

function bias(ctx: LayerCtx, channels: number): string[] {
  if (ctx.layer.config.use_bias === false) return [];
  const bw = weight(ctx, 'bias', 1);
  if (bw.shape[0] !== channels) ctx.fail(`bias has ${bw.shape[0]} values for ${channels} channels`);
  return [ctx.b.float(`${ctx.layer.name}/bias`, bw.shape, bw.data)];
}

function conv2D(ctx: LayerCtx): TensorInfo {
  const x = spatial(ctx);
  const depthwise = ctx.layer.className === 'DepthwiseConv2D';
  // Keras 3 names the depthwise kernel "kernel" too.
  const k = weight(ctx, depthwise && ctx.weights.has('depthwise_kernel') ? 'depthwise_kernel' : 'kernel', 4);
  const [kh, kw, cin, cout] = k.shape;
  const kernel = pair(ctx, 'kernel_size');
  if (kernel[0] !== kh || kernel[1] !== kw) ctx.fail(`kernel_size [${kernel.join(', ')}] does not match the kernel's shape [${k.shape.join(', ')}]`);
  // Keras kernels are [kh, kw, in, out] (depthwise: [kh, kw, in, multiplier]); ONNX wants [out, in/group, kh, kw].
  const groups = depthwise ? cin : Number(ctx.layer.config.groups ?? 1);
  const outChannels = depthwise ? cin * cout : cout;
  const oihw = new Float32Array(k.data.length);
  for (let y = 0; y < kh; y++) {
    for (let xx = 0; xx < kw; xx++) {
      for (let i = 0; i < cin; i++) {
        for (let o = 0; o < cout; o++) {
          const src = ((y * kw + xx) * cin + i) * cout + o;
          const dst = depthwise ? ((i * cout + o) * kh + y) * kw + xx : ((o * cin + i) * kh + y) * kw + xx;
          oihw[dst] = k.data[src];
        }
      }
    }
  }
  const name = ctx.layer.name;
  const w = ctx.b.float(`${name}/kernel`, depthwise ? [outChannels, 1, kh, kw] : [cout, cin, kh, kw], oihw);
  const attrs = {
    kernel_shape: ints([kh, kw]),
    strides: ints(pair(ctx, 'strides', [1, 1])),
    dilations: ints(pair(ctx, 'dilation_rate', [1, 1])),
    group: int(groups),
    ...paddingAttrs(ctx),
  };
  const b = bias(ctx, outChannels);
  withActivation(ctx, 4, (out) => ctx.b.node('Conv', [x.name, w, ...b], out, attrs));
  return { rank: 4, channels: outChannels };
}

function dense(ctx: LayerCtx): TensorInfo {
  const x = single(ctx);
  if (x.rank !== 2) ctx.fail('Dense on an image tensor is not supported (flatten or pool it first)');
  const k = weight(ctx, 'kernel', 2);
  const [rows, units] = k.shape;
  let data = k.data;
  // After a channels-last Flatten, row p*C + c belongs to position p, channel c; the NCHW
  // Flatten of the graph delivers it at c*P + p.
  const c = x.flattenedFrom;
  if (c && rows % c === 0 && rows > c) {
    const positions = rows / c;
    data = new Float32Array(k.data.length);
    for (let p = 0; p < positions; p++) {
      for (let ch = 0; ch < c; ch++) data.set(k.data.subarray((p * c + ch) * units, (p * c + ch + 1) * units), (ch * positions + p) * units);
    }
  }
  const w = ctx.b.float(`${ctx.layer.name}/kernel`, [rows, units], data);
  const b = bias(ctx, units);
  withActivation(ctx, 2, (out) => ctx.b.node('Gemm', [x.name, w, ...b], out));
  return { rank: 2, channels: units };
}

function batchNorm(ctx: LayerCtx): TensorInfo {
  const x = single(ctx);
  const axes = ctx.layer.config.axis ?? -1;
  const axis = Array.isArray(axes) && axes.length === 1 ? Number(axes[0]) : Number(axes);
  if (axis !== -1 && axis !== x.rank - 1) ctx.fail(`normalizing axis ${JSON.stringify(axes)} is not supported (the channel axis is)`);
  const c = x.channels;
  const vector = (key: string, enabled: boolean, fill: number): string => {
    const name = `${ctx.layer.name}/${key}`;
    if (!enabled) return ctx.b.float(name, [c], new Float32Array(c).fill(fill));
    const w = weight(ctx, key, 1);
    if (w.shape[0] !== c) ctx.fail(`${key} has ${w.shape[0]} values for ${c} channels`);
    return ctx.b.float(name, [c], w.data);
  };
  const inputs = [
    x.name,
    vector('gamma', ctx.layer.config.scale !== false, 1),
    vector('beta', ctx.layer.config.center !== false, 0),
    vector('moving_mean', true, 0),
    vector('moving_variance', true, 1),
  ];
  const eps = Number(ctx.layer.config.epsilon ?? 1e-3);
  ctx.b.node('BatchNormalization', inputs, ctx.layer.name, { epsilon: { kind: 'float', value: eps } });
  return { ...x };
}

function relu(ctx: LayerCtx): TensorInfo {
  const x = single(ctx);
  const cfg = ctx.layer.config;
  const max = cfg.max_value ?? null;
  const slope = Number(cfg.negative_slope ?? cfg.alpha ?? 0);
  if (Number(cfg.threshold ?? 0) !== 0) ctx.fail('a ReLU threshold is not supported');
  const name = ctx.layer.name;
  if (max === null && slope === 0) ctx.b.node('Relu', [x.name], name);
  else if (max === null) ctx.b.node('LeakyRelu', [x.name], name, { alpha: { kind: 'float', value: slope } });
  else if (slope === 0) ctx.b.node('Clip', [x.name, ctx.b.float(`${name}/min`, [], Float32Array.of(0)), ctx.b.float(`${name}/max`, [], Float32Array.of(Number(max)))], name);
  else ctx.fail('a ReLU with both max_value and negative_slope is not supported');
  return { ...x };
}

function pool(ctx: LayerCtx): TensorInfo {
  const x = spatial(ctx);
  const size = pair(ctx, 'pool_size', [2, 2]);
  const strides = pair(ctx, 'strides', size); // null (the default) means the pool size
  const op = ctx.layer.className === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool';
  // Keras averages over the window's positions inside the input only (count_include_pad 0).
  ctx.b.node(op, [x.name], ctx.layer.name, { kernel_shape: ints(size), strides: ints(strides), ...paddingAttrs(ctx) });
  return { ...x };
}

function globalAveragePool(ctx: LayerCtx): TensorInfo {
  const x = spatial(ctx);
  const name = ctx.layer.name;
  if (ctx.layer.config.keepdims === true) {
    ctx.b.node('GlobalAveragePool', [x.name], name);
    return { rank: 4, channels: x.channels };
  }
  ctx.b.node('Flatten', [ctx.b.node('GlobalAveragePool', [x.name], `${name}/keepdims`)], name, { axis: int(1) });
  return { rank: 2, channels: x.channels };
}

function zeroPadding(ctx: LayerCtx): TensorInfo {
  const x = spatial(ctx);
  const p = ctx.layer.config.padding ?? 1;
  const axis = (v: unknown): [number, number] => (typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 2 ? [Number(v[0]), Number(v[1])] : ctx.fail(`padding ${JSON.stringify(p)} is unreadable`));
  const [[top, bottom], [left, right]] = typeof p === 'number' ? [[p, p], [p, p]] : Array.isArray(p) && p.length === 2 ? [axis(p[0]), axis(p[1])] : ctx.fail(`padding ${JSON.stringify(p)} is unreadable`);
  const pads = ctx.b.ints(`${ctx.layer.name}/pads`, [0, 0, top, left, 0, 0, bottom, right]);
  ctx.b.node('Pad', [x.name, pads], ctx.layer.name, { mode: { kind: 'string', value: 'constant' } });
  return { ...x };
}

function flatten(ctx: LayerCtx): TensorInfo {
  const x = single(ctx);
  checkChannelsLast(ctx);
  ctx.b.node('Flatten', [x.name], ctx.layer.name, { axis: int(1) });
  return { rank: 2, channels: x.channels, flattenedFrom: x.rank === 4 ? x.channels : x.flattenedFrom };
}

/** Only the reshapes classifier heads use: to a vector (a Flatten) and to a 1x1 image. */
function reshape(ctx: LayerCtx): TensorInfo {
  const x = single(ctx);
  const target = ctx.layer.config.target_shape;
  const name = ctx.layer.name;
  if (Array.isArray(target) && target.length === 1) return flatten(ctx);
  if (Array.isArray(target) && target.length === 3 && target[0] === 1 && target[1] === 1 && target[2] === x.channels) {
    ctx.b.node('Reshape', [x.name, ctx.b.ints(`${name}/shape`, [0, x.channels, 1, 1])], name);
    return { rank: 4, channels: x.channels };
  }
  return ctx.fail(`reshaping to ${JSON.stringify(target)} is not supported (only to a vector or a 1x1 image)`);
}

function add(ctx: LayerCtx): TensorInfo {
  if (ctx.ins.length < 2) ctx.fail('needs at least two inputs');
  let acc = ctx.ins[0].name;
  ctx.ins.slice(1).forEach((x, i) => {
    acc = ctx.b.node('Add', [acc, x.name], i === ctx.ins.length - 2 ? ctx.layer.name : `${ctx.layer.name}/${i}`);
  });
  return { ...ctx.ins[0], flattenedFrom: undefined };
}

function concatenate(ctx: LayerCtx): TensorInfo {
  const rank = ctx.ins[0].rank;
  const axis = Number(ctx.layer.config.axis ?? -1);
  if (ctx.ins.some((x) => x.rank !== rank) || (axis !== -1 && axis !== rank - 1)) ctx.fail(`concatenation along axis ${axis} is not supported (along channels is)`);
  ctx.b.node('Concat', ctx.ins.map((x) => x.name), ctx.layer.name, { axis: int(1) });
  return { rank, channels: ctx.ins.reduce((s, x) => s + x.channels, 0) };
}

function convertLayer(ctx: LayerCtx): TensorInfo {
  const { layer } = ctx;
  if (INFERENCE_IDENTITY.has(layer.className)) {
    const x = single(ctx);
    ctx.b.node('Dropout', [x.name], layer.name);
    return { ...x };
  }
  switch (layer.className) {
    case 'Conv2D':
    case 'DepthwiseConv2D':
      return conv2D(ctx);
    case 'Dense':
      return dense(ctx);
    case 'BatchNormalization':
      return batchNorm(ctx);
    case 'Activation': {
      const x = single(ctx);
      activation(ctx, x.name, layer.config.activation, x.rank);
      return { ...x };
    }
    case 'ReLU':
      return relu(ctx);
    case 'Softmax': {
      const x = single(ctx);
      if (Number(layer.config.axis ?? -1) !== -1) ctx.fail('softmax over another axis than the last is not supported');
      activation(ctx, x.name, 'softmax', x.rank);
      return { ...x };
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D':
      return pool(ctx);
    case 'GlobalAveragePooling2D':
      return globalAveragePool(ctx);
    case 'ZeroPadding2D':
      return zeroPadding(ctx);
    case 'Flatten':
      return flatten(ctx);
    case 'Reshape':
      return reshape(ctx);
    case 'Add':
      return add(ctx);
    case 'Concatenate':
      return concatenate(ctx);
    default:
      return ctx.fail(`the layer class is not supported (supported: ${SUPPORTED_LAYERS.join(', ')})`);
  }
}
