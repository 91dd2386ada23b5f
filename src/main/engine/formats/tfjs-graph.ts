// TensorFlow.js graph-model reader: model.json holds a TensorFlow GraphDef in protobuf JSON
// (`modelTopology.node[]` with op, input, attr) and a weightsManifest whose entries are the Const
// nodes' values. TensorFlow computes in NHWC with HWIO kernels; the graph IR is ONNX-like
// (NCHW, OIHW), so each TF node becomes ONNX operators with its weights, axes and paddings
// translated, and constants that broadcast against a feature map are reordered to NCHW.
import { ModelFormatError } from '../errors';
import type { AttrValue, ConstTensor, GraphDescription, GraphInput, GraphNode } from '../graph/ir';
import { isObject } from '../../../shared/json';
import { readTfjsWeights, type TfjsWeight } from './tfjs-weights';

/**
 * What a TF tensor is at conversion time: a constant, a computed tensor of known rank, or a
 * shape computed from a tensor's shape (Shape, StridedSlice, Pack), which only Reshape may read.
 */
type Value = { kind: 'const'; value: TfjsWeight } | Computed | { kind: 'dims'; dims: Dim[]; scalar: boolean };
/** A dimension: known, or axis `axis` (NHWC) of a computed tensor. */
type Dim = number | { axis: number };
type Computed = { kind: 'tensor'; name: string } & Layout;

/** What the translation must know of a computed tensor's layout. */
interface Layout {
  rank: number;
  /** Channels of a rank-4 feature map, when known (needed to reorder a flattened one). */
  channels?: number;
  /**
   * Set on a feature map flattened to [N, H*W*C]: its columns are in NCHW order (c, y, x) where
   * TensorFlow has (y, x, c); the value is C. Only a MatMul may read it, with its rows reordered.
   */
  flattenedChannels?: number;
}

interface TfNode {
  name: string;
  op: string;
  inputs: string[];
  attr: Record<string, unknown>;
}

/** Operators that only pass their input on. */
const PASS_THROUGH = new Set(['Identity', 'StopGradient', 'Snapshot']);
/** Placement of the NHWC axes in NCHW. */
const NHWC_TO_NCHW_AXIS = [0, 2, 3, 1];
/** The TF activations a node may end with (alone or fused), by ONNX op. */
const ACTIVATIONS: Record<string, string> = { Relu: 'Relu', Relu6: 'Clip', Sigmoid: 'Sigmoid', Tanh: 'Tanh', LeakyRelu: 'LeakyRelu' };
const ELEMENTWISE: Record<string, string> = { Add: 'Add', AddV2: 'Add', AddN: 'Add', BiasAdd: 'Add', Sub: 'Sub', Mul: 'Mul', RealDiv: 'Div' };
const CONVERTERS: Record<string, (c: Converter, n: TfNode) => Value> = {
  Conv2D: (c, n) => c.conv(n, false, []),
  DepthwiseConv2dNative: (c, n) => c.conv(n, true, []),
  _FusedConv2D: (c, n) => c.conv(n, false, c.fusedOps(n)),
  FusedDepthwiseConv2dNative: (c, n) => c.conv(n, true, c.fusedOps(n)),
  MatMul: (c, n) => c.matMul(n, []),
  _FusedMatMul: (c, n) => c.matMul(n, c.fusedOps(n)),
  ...Object.fromEntries(Object.keys(ACTIVATIONS).map((op) => [op, (c: Converter, n: TfNode) => c.activation(n, op, c.tensor(n, 0))])),
  ...Object.fromEntries(Object.keys(ELEMENTWISE).map((op) => [op, (c: Converter, n: TfNode) => c.elementwise(n, ELEMENTWISE[op])])),
  MaxPool: (c, n) => c.pool(n, 'MaxPool'),
  AvgPool: (c, n) => c.pool(n, 'AveragePool'),
  FusedBatchNorm: (c, n) => c.batchNorm(n),
  FusedBatchNormV2: (c, n) => c.batchNorm(n),
  FusedBatchNormV3: (c, n) => c.batchNorm(n),
  Mean: (c, n) => c.mean(n),
  Reshape: (c, n) => c.reshape(n),
  Squeeze: (c, n) => c.squeeze(n),
  Pad: (c, n) => c.pad(n),
  PadV2: (c, n) => c.pad(n),
  MirrorPad: (c, n) => c.pad(n),
  ConcatV2: (c, n) => c.concat(n),
  Softmax: (c, n) => c.softmax(n),
  Shape: (c, n) => c.shape(n),
  StridedSlice: (c, n) => c.stridedSlice(n),
  Pack: (c, n) => c.pack(n),
};

export const SUPPORTED_TF_OPS = ['Placeholder', 'Const', 'NoOp', ...PASS_THROUGH, ...Object.keys(CONVERTERS)].sort();

/** Reads a graph model's weights (the shards beside `file`) and translates its graph. */
export async function readTfjsGraphModel(json: Record<string, unknown>, file: string): Promise<GraphDescription> {
  const weights = await readTfjsWeights(file, json.weightsManifest);
  return convertTfjsGraph(json, weights, file);
}

export function convertTfjsGraph(json: Record<string, unknown>, weights: Map<string, TfjsWeight>, source: string): GraphDescription {
  const fail = (msg: string): never => {
    throw new ModelFormatError(`${source}: ${msg}`);
  };
  const topology = json.modelTopology;
  if (!isObject(topology) || !Array.isArray(topology.node)) return fail('modelTopology has no "node" list (not a TensorFlow.js graph model)');
  const nodes = topology.node.map((raw, i) => tfNode(raw, i, fail));
  if (nodes.length === 0) fail('the graph has no nodes');
  const converter = new Converter(source, weights);
  try {
    for (const node of inTopologicalOrder(nodes, fail)) converter.add(node);
  } catch (err) {
    if (err instanceof ModelFormatError && !err.message.startsWith(source)) fail(err.message);
    throw err;
  }
  const outputs = outputNames(json, nodes).map((o) => converter.output(o));
  const metadata: Record<string, string> = {};
  const user = json.userDefinedMetadata;
  if (isObject(user)) for (const [k, v] of Object.entries(user)) if (typeof v === 'string') metadata[k] = v;
  return { source, opset: 13, inputs: converter.inputs, outputs, nodes: converter.nodes, initializers: converter.initializers, metadata };
}

function tfNode(raw: unknown, i: number, fail: (m: string) => never): TfNode {
  if (!isObject(raw) || typeof raw.name !== 'string' || !raw.name) return fail(`node #${i} has no name`);
  if (typeof raw.op !== 'string' || !raw.op) return fail(`node ${raw.name} has no op`);
  const inputs = raw.input ?? [];
  if (!Array.isArray(inputs) || !inputs.every((x) => typeof x === 'string')) return fail(`node ${raw.name} (${raw.op}) has an invalid input list`);
  const attr = raw.attr ?? {};
  if (!isObject(attr)) return fail(`node ${raw.name} (${raw.op}) has an invalid attr map`);
  // Control dependencies ("^name") order execution in TensorFlow; dataflow alone decides here.
  return { name: raw.name, op: raw.op, inputs: (inputs as string[]).filter((x) => !x.startsWith('^')), attr };
}

/** Node and output index of an input reference ("name", "name:1"). */
function splitRef(ref: string): [string, number] {
  const m = /^(.*):(\d+)$/.exec(ref);
  return m ? [m[1], Number(m[2])] : [ref, 0];
}

/** Kahn's algorithm over the dataflow (GraphDef allows any node order); a cycle or dangling input is a broken file. */
function inTopologicalOrder(nodes: TfNode[], fail: (m: string) => never): TfNode[] {
  const index = new Map<string, number>();
  nodes.forEach((n, i) => {
    if (index.has(n.name)) fail(`node name ${n.name} is used twice`);
    index.set(n.name, i);
  });
  const consumers = nodes.map(() => [] as number[]);
  const waiting = nodes.map((n, i) => {
    const producers = new Set(
      n.inputs.map((ref) => {
        const p = index.get(splitRef(ref)[0]);
        if (p === undefined) return fail(`node ${n.name} (${n.op}) reads "${ref}", which no node produces`);
        return p;
      }),
    );
    producers.forEach((p) => consumers[p].push(i));
    return producers.size;
  });
  const ready = nodes.flatMap((_, i) => (waiting[i] === 0 ? [i] : []));
  const order: TfNode[] = [];
  for (let k = 0; k < ready.length; k++) {
    order.push(nodes[ready[k]]);
    for (const c of consumers[ready[k]]) if (--waiting[c] === 0) ready.push(c);
  }
  if (order.length !== nodes.length) {
    const stuck = nodes.find((_, i) => waiting[i] > 0)!;
    fail(`the graph has a cycle through node ${stuck.name} (${stuck.op})`);
  }
  return order;
}

/** The signature's outputs when the file has one, else every node nothing reads. */
function outputNames(json: Record<string, unknown>, nodes: TfNode[]): string[] {
  const signature = isObject(json.signature) ? json.signature : isObject(json.userDefinedMetadata) ? json.userDefinedMetadata.signature : undefined;
  if (isObject(signature) && isObject(signature.outputs)) {
    const names = Object.values(signature.outputs).flatMap((o) => (isObject(o) && typeof o.name === 'string' ? [o.name] : []));
    if (names.length > 0) return names;
  }
  const read = new Set(nodes.flatMap((n) => n.inputs.map((ref) => splitRef(ref)[0])));
  return nodes.filter((n) => !read.has(n.name) && !['Const', 'NoOp', 'Placeholder'].includes(n.op)).map((n) => n.name);
}

/** Protobuf-JSON attribute access (int64 values arrive as strings, strings as base64). */
function attrOf(node: TfNode, name: string): Record<string, unknown> | undefined {
  const a = node.attr[name];
  if (a === undefined) return undefined;
  if (!isObject(a)) throw nodeError(node, `attribute ${name} is not an attribute value`);
  return a;
}

function nodeError(node: TfNode, msg: string): ModelFormatError {
  return new ModelFormatError(`node ${node.name} (${node.op}): ${msg}`);
}

function toInt(node: TfNode, name: string, v: unknown): number {
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw nodeError(node, `attribute ${name} holds ${JSON.stringify(v)}, not an integer`);
  return n;
}

function decodeBase64(node: TfNode, name: string, v: unknown): string {
  if (typeof v !== 'string') throw nodeError(node, `attribute ${name} is not a string`);
  return Buffer.from(v, 'base64').toString('utf8');
}

function stringAttr(node: TfNode, name: string, dflt?: string): string {
  const a = attrOf(node, name);
  if (a?.s === undefined) {
    if (dflt === undefined) throw nodeError(node, `attribute ${name} is missing`);
    return dflt;
  }
  return decodeBase64(node, name, a.s);
}

function intsAttr(node: TfNode, name: string, dflt?: number[]): number[] {
  const list = attrOf(node, name)?.list;
  if (list === undefined) {
    if (dflt === undefined) throw nodeError(node, `attribute ${name} is missing`);
    return dflt;
  }
  const values = isObject(list) ? (list.i ?? []) : null;
  if (!Array.isArray(values)) throw nodeError(node, `attribute ${name} is not a list of integers`);
  return values.map((v) => toInt(node, name, v));
}

function stringsAttr(node: TfNode, name: string): string[] {
  const list = attrOf(node, name)?.list;
  const values = isObject(list) ? (list.s ?? []) : [];
  if (!Array.isArray(values)) throw nodeError(node, `attribute ${name} is not a list of strings`);
  return values.map((v) => decodeBase64(node, name, v));
}

function floatAttr(node: TfNode, name: string, dflt: number): number {
  const f = attrOf(node, name)?.f;
  if (f === undefined) return dflt;
  const v = typeof f === 'string' ? Number(f) : f;
  if (typeof v !== 'number' || Number.isNaN(v)) throw nodeError(node, `attribute ${name} is not a number`);
  return v;
}

function boolAttr(node: TfNode, name: string): boolean {
  return attrOf(node, name)?.b === true;
}

/** NHWC per-axis attribute values (strides, ksize, dilations) → the [H, W] pair; N and C must be 1. */
function spatialPair(node: TfNode, name: string, dflt?: number[]): number[] {
  const v = intsAttr(node, name, dflt);
  if (v.length !== 4 || v[0] !== 1 || v[3] !== 1) throw nodeError(node, `${name} [${v.join(', ')}] must be [1, h, w, 1]`);
  return [v[1], v[2]];
}

/** NHWC data → NCHW data of the same rank-4 tensor. */
function nhwcToNchw(data: Float32Array, [n, h, w, c]: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  let k = 0;
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[k++] = data[((b * h + y) * w + x) * c + ch];
    }
  }
  return out;
}

class Converter {
  readonly nodes: GraphNode[] = [];
  readonly initializers = new Map<string, ConstTensor>();
  readonly inputs: GraphInput[] = [];
  private readonly values = new Map<string, Value>();

  constructor(
    private readonly source: string,
    private readonly weights: Map<string, TfjsWeight>,
  ) {}

  add(node: TfNode): void {
    if (node.op === 'NoOp') return;
    if (node.op === 'Placeholder') return this.placeholder(node);
    if (node.op === 'Const') {
      const value = this.weights.get(node.name);
      if (!value) throw nodeError(node, 'the constant has no entry in the weights manifest');
      this.values.set(node.name, { kind: 'const', value });
      return;
    }
    if (PASS_THROUGH.has(node.op)) {
      this.values.set(node.name, this.value(node, 0));
      return;
    }
    const convert = CONVERTERS[node.op];
    if (!convert) throw nodeError(node, `TensorFlow operator "${node.op}" is not supported (supported: ${SUPPORTED_TF_OPS.join(', ')})`);
    this.values.set(node.name, convert(this, node));
  }

  /** The graph output's tensor name in the IR. */
  output(ref: string): string {
    const [name, index] = splitRef(ref);
    const v = this.values.get(name);
    if (!v) throw new ModelFormatError(`${this.source}: the graph output "${ref}" is no node of the graph`);
    if (index !== 0) throw new ModelFormatError(`${this.source}: the graph output "${ref}" is an extra output of its node, which is not supported`);
    if (v.kind !== 'tensor') throw new ModelFormatError(`${this.source}: the graph output "${ref}" is a constant or a shape`);
    return v.name;
  }

  private placeholder(node: TfNode): void {
    const dtype = attrOf(node, 'dtype')?.type;
    if (dtype !== undefined && dtype !== 'DT_FLOAT') throw nodeError(node, `the input has type ${String(dtype)}; only float32 inputs are supported`);
    const shapeAttr = attrOf(node, 'shape')?.shape;
    const dims = isObject(shapeAttr) && Array.isArray(shapeAttr.dim) ? shapeAttr.dim : null;
    if (!dims || dims.length !== 4) throw nodeError(node, 'the input must be an NHWC image batch of known rank 4');
    const [n, h, w, c] = dims.map((d) => {
      const size = isObject(d) && d.size !== undefined ? toInt(node, 'shape', d.size) : -1;
      return size > 0 ? size : null;
    });
    this.inputs.push({ name: node.name, shape: [n, c, h, w] });
    this.values.set(node.name, { kind: 'tensor', name: node.name, rank: 4, channels: c ?? undefined });
  }

  private value(node: TfNode, i: number): Value {
    const ref = node.inputs[i];
    if (ref === undefined) throw nodeError(node, `input ${i} is missing`);
    const [name, index] = splitRef(ref);
    if (index !== 0) throw nodeError(node, `reads "${ref}", an extra output of its node, which is not supported`);
    const v = this.values.get(name);
    if (!v) throw nodeError(node, `reads "${ref}", which is no tensor`);
    return v;
  }

  /** Input i, a constant or a computed tensor (not a shape). */
  private data(node: TfNode, i: number): Exclude<Value, { kind: 'dims' }> {
    const v = this.value(node, i);
    if (v.kind === 'dims') throw nodeError(node, `input ${i} is a shape computation, which only Reshape may read`);
    return v;
  }

  /** Input i, which must be computed (depend on the image). */
  tensor(node: TfNode, i: number, flattenedOk = false): Computed {
    const v = this.data(node, i);
    if (v.kind === 'const') throw nodeError(node, `input ${i} is a constant; constant subgraphs are not supported`);
    if (v.flattenedChannels && !flattenedOk) throw nodeError(node, `input ${i} is a flattened feature map, which only a MatMul may read (its element order differs between NHWC and NCHW)`);
    return v;
  }

  /** Input i, which must be a constant. */
  constant(node: TfNode, i: number, what: string, dtype?: 'float32' | 'int32'): TfjsWeight {
    const v = this.data(node, i);
    if (v.kind !== 'const') throw nodeError(node, `${what} (input ${i}) must be a constant`);
    if (dtype && v.value.dtype !== dtype) throw nodeError(node, `${what} must hold ${dtype === 'int32' ? 'integers' : 'floats'}`);
    return v.value;
  }

  private floats(node: TfNode, i: number, what: string, rank?: number): TfjsWeight & { dtype: 'float32' } {
    const c = this.constant(node, i, what, 'float32') as TfjsWeight & { dtype: 'float32' };
    if (rank !== undefined && c.shape.length !== rank) throw nodeError(node, `${what} has shape [${c.shape.join(', ')}]; expected rank ${rank}`);
    return c;
  }

  private initializer(name: string, shape: number[], data: Float32Array | number[], dtype: 'float32' | 'int64' = 'float32'): string {
    const tensor: ConstTensor = dtype === 'float32' ? { name, shape, dtype, data: Float32Array.from(data) } : { name, shape, dtype, data: Float64Array.from(data) };
    this.initializers.set(name, tensor);
    return name;
  }

  private emit(op: string, name: string, inputs: string[], layout: Layout, attrs: Record<string, AttrValue> = {}): Computed {
    this.nodes.push({ name, op, inputs, outputs: [name], attrs });
    return { kind: 'tensor', name, rank: layout.rank, channels: layout.channels, flattenedChannels: layout.flattenedChannels };
  }

  /** Names the ONNX nodes a TF node becomes: the last one carries the TF name (its layer), the others a suffix. */
  private namer(node: TfNode, steps: number): (step: string) => string {
    let left = steps;
    return (step) => (--left === 0 ? node.name : `${node.name}/${step}`);
  }

  /** The fused_ops list of a _Fused* node, checked against what it may contain. */
  fusedOps(node: TfNode): string[] {
    const ops = stringsAttr(node, 'fused_ops');
    const [first, ...rest] = ops;
    const known = (first === 'BiasAdd' || first === 'FusedBatchNorm') && rest.length <= 1 && rest.every((a) => a in ACTIVATIONS);
    if (!known) throw nodeError(node, `fused operations [${ops.join(', ')}] are not supported (BiasAdd or FusedBatchNorm, then optionally one of ${Object.keys(ACTIVATIONS).join(', ')})`);
    if (node.op === '_FusedMatMul' && first !== 'BiasAdd') throw nodeError(node, `fused operations [${ops.join(', ')}] are not supported on a MatMul`);
    return ops;
  }

  conv(node: TfNode, depthwise: boolean, fused: string[]): Computed {
    const x = this.tensor(node, 0);
    if (x.rank !== 4) throw nodeError(node, `the input has rank ${x.rank}; expected a rank-4 feature map`);
    if (stringAttr(node, 'data_format', 'NHWC') !== 'NHWC') throw nodeError(node, 'only the NHWC data format is supported');
    const filter = this.floats(node, 1, 'the filter', 4);
    const [kh, kw, cin, cout] = filter.shape;
    // TF kernels are [kh, kw, in, out] (depthwise: [kh, kw, in, multiplier]); ONNX wants OIHW.
    const outChannels = depthwise ? cin * cout : cout;
    const weight = new Float32Array(filter.data.length);
    for (let row = 0; row < kh; row++) {
      for (let col = 0; col < kw; col++) {
        for (let i = 0; i < cin; i++) {
          for (let o = 0; o < cout; o++) {
            const from = ((row * kw + col) * cin + i) * cout + o;
            const to = depthwise ? ((i * cout + o) * kh + row) * kw + col : ((o * cin + i) * kh + row) * kw + col;
            weight[to] = filter.data[from];
          }
        }
      }
    }
    const name = this.namer(node, 1 + (fused[0] === 'FusedBatchNorm' ? 1 : 0) + (fused.length > 1 ? 1 : 0));
    const convName = name('conv');
    const inputs = [x.name, this.initializer(`${convName}/weight`, depthwise ? [outChannels, 1, kh, kw] : [cout, cin, kh, kw], weight)];
    if (fused[0] === 'BiasAdd') inputs.push(this.initializer(`${convName}/bias`, [outChannels], this.floats(node, 2, 'the bias', 1).data));
    const attrs: Record<string, AttrValue> = {
      kernel_shape: { kind: 'ints', value: [kh, kw] },
      strides: { kind: 'ints', value: spatialPair(node, 'strides', [1, 1, 1, 1]) },
      dilations: { kind: 'ints', value: spatialPair(node, 'dilations', [1, 1, 1, 1]) },
      ...this.padding(node),
    };
    if (depthwise) attrs.group = { kind: 'int', value: cin };
    let out = this.emit('Conv', convName, inputs, { rank: 4, channels: outChannels }, attrs);
    if (fused[0] === 'FusedBatchNorm') out = this.batchNormOf(node, out, 2, name('bn'));
    return fused.length > 1 ? this.activation(node, fused[1], out, name('act')) : out;
  }

  /** TF padding → ONNX auto_pad/pads. TF's SAME puts the odd pixel at the end, as SAME_UPPER does. */
  private padding(node: TfNode): Record<string, AttrValue> {
    const padding = stringAttr(node, 'padding');
    if (padding === 'SAME') return { auto_pad: { kind: 'string', value: 'SAME_UPPER' } };
    if (padding === 'VALID') return { auto_pad: { kind: 'string', value: 'VALID' } };
    if (padding !== 'EXPLICIT') throw nodeError(node, `padding "${padding}" is not one of SAME, VALID, EXPLICIT`);
    const p = intsAttr(node, 'explicit_paddings');
    if (p.length !== 8 || p[0] || p[1] || p[6] || p[7]) throw nodeError(node, `explicit_paddings [${p.join(', ')}] must pad only H and W of NHWC`);
    return { pads: { kind: 'ints', value: [p[2], p[4], p[3], p[5]] } };
  }

  activation(node: TfNode, tfOp: string, x: Computed, name = node.name): Computed {
    const op = ACTIVATIONS[tfOp];
    if (tfOp === 'Relu6') {
      const lo = this.initializer(`${name}/min`, [], [0]);
      return this.emit(op, name, [x.name, lo, this.initializer(`${name}/max`, [], [6])], x);
    }
    const attrs: Record<string, AttrValue> = tfOp === 'LeakyRelu' ? { alpha: { kind: 'float', value: floatAttr(node, tfOp === node.op ? 'alpha' : 'leakyrelu_alpha', 0.2) } } : {};
    return this.emit(op, name, [x.name], x, attrs);
  }

  /**
   * An elementwise op over two operands (AddN: a chain of Adds over all of them); a constant
   * operand is reordered to broadcast in NCHW as it did in NHWC.
   */
  elementwise(node: TfNode, op: string): Computed {
    if (node.op === 'BiasAdd' && stringAttr(node, 'data_format', 'NHWC') !== 'NHWC') throw nodeError(node, 'only the NHWC data format is supported');
    if (node.inputs.length < 2 || (op !== 'Add' && node.inputs.length !== 2)) throw nodeError(node, `${node.inputs.length} operands`);
    const values = node.inputs.map((_, i) => this.data(node, i));
    const tensors = values.flatMap((v, i) => (v.kind === 'tensor' ? [this.tensor(node, i)] : []));
    if (tensors.length === 0) throw nodeError(node, 'all operands are constants; constant subgraphs are not supported');
    const rank = Math.max(...tensors.map((t) => t.rank));
    const operands = values.map((v, i): string => {
      if (v.kind === 'tensor') {
        if (v.rank !== rank && rank === 4) throw nodeError(node, `operand ${i} has rank ${v.rank} against a rank-4 feature map; only constants broadcast across layouts`);
        return v.name;
      }
      if (v.value.dtype !== 'float32') throw nodeError(node, `operand ${i} holds integers`);
      const shape = v.value.shape;
      if (shape.length > rank) throw nodeError(node, `the constant operand [${shape.join(', ')}] has a higher rank than the other operands`);
      if (rank !== 4 || shape.length === 0) return this.initializer(`${node.name}/operand${i}`, shape, v.value.data);
      const nhwc = [...new Array<number>(4 - shape.length).fill(1), ...shape];
      const [n, h, w, c] = nhwc;
      return this.initializer(`${node.name}/operand${i}`, [n, c, h, w], nhwcToNchw(v.value.data, nhwc));
    });
    const layout = { rank, channels: tensors.find((t) => t.rank === rank)!.channels };
    const name = this.namer(node, operands.length - 1);
    let out = this.emit(op, name('sum1'), operands.slice(0, 2), layout);
    for (let k = 2; k < operands.length; k++) out = this.emit(op, name(`sum${k}`), [out.name, operands[k]], layout);
    return out;
  }

  matMul(node: TfNode, fused: string[]): Computed {
    const a = this.tensor(node, 0, true);
    if (a.rank !== 2) throw nodeError(node, `the input has rank ${a.rank}; only [batch, features] inputs are supported`);
    const transB = boolAttr(node, 'transpose_b');
    const b = a.flattenedChannels ? this.nchwRows(node, this.floats(node, 1, 'the weight matrix', 2), a.flattenedChannels, transB) : this.floats(node, 1, 'the weight matrix', 2);
    const name = this.namer(node, fused.length > 1 ? 2 : 1);
    const gemmName = name('matmul');
    const inputs = [a.name, this.initializer(`${gemmName}/weight`, b.shape, b.data)];
    const units = transB ? b.shape[0] : b.shape[1];
    if (fused[0] === 'BiasAdd') inputs.push(this.initializer(`${gemmName}/bias`, [units], this.floats(node, 2, 'the bias', 1).data));
    const attrs: Record<string, AttrValue> = {
      transA: { kind: 'int', value: boolAttr(node, 'transpose_a') ? 1 : 0 },
      transB: { kind: 'int', value: transB ? 1 : 0 },
    };
    const out = this.emit('Gemm', gemmName, inputs, { rank: 2 }, attrs);
    return fused.length > 1 ? this.activation(node, fused[1], out, name('act')) : out;
  }

  /**
   * The weights of a MatMul on a flattened feature map, with the input rows (columns when
   * transposed) moved from TensorFlow's (y, x, c) order to the (c, y, x) order they arrive in.
   */
  private nchwRows(node: TfNode, w: TfjsWeight & { dtype: 'float32' }, channels: number, transposed: boolean): TfjsWeight & { dtype: 'float32' } {
    const [rows, cols] = transposed ? [w.shape[1], w.shape[0]] : w.shape;
    if (rows % channels !== 0) throw nodeError(node, `${rows} weight rows do not fit a flattened feature map of ${channels} channels`);
    const pixels = rows / channels;
    const data = new Float32Array(w.data.length);
    for (let p = 0; p < pixels; p++) {
      for (let c = 0; c < channels; c++) {
        const from = p * channels + c;
        const to = c * pixels + p;
        if (transposed) for (let j = 0; j < cols; j++) data[j * rows + to] = w.data[j * rows + from];
        else data.set(w.data.subarray(from * cols, (from + 1) * cols), to * cols);
      }
    }
    return { ...w, data };
  }

  pool(node: TfNode, op: 'MaxPool' | 'AveragePool'): Computed {
    const x = this.tensor(node, 0);
    if (x.rank !== 4) throw nodeError(node, `the input has rank ${x.rank}; expected a rank-4 feature map`);
    if (stringAttr(node, 'data_format', 'NHWC') !== 'NHWC') throw nodeError(node, 'only the NHWC data format is supported');
    const attrs: Record<string, AttrValue> = {
      kernel_shape: { kind: 'ints', value: spatialPair(node, 'ksize') },
      strides: { kind: 'ints', value: spatialPair(node, 'strides', [1, 1, 1, 1]) },
      ...this.padding(node),
    };
    // TF's average excludes the padding (count_include_pad 0, ONNX's default).
    return this.emit(op, node.name, [x.name], x, attrs);
  }

  batchNorm(node: TfNode): Computed {
    if (boolAttr(node, 'is_training')) throw nodeError(node, 'training mode is not supported (export the model for inference)');
    if (stringAttr(node, 'data_format', 'NHWC') !== 'NHWC') throw nodeError(node, 'only the NHWC data format is supported');
    return this.batchNormOf(node, this.tensor(node, 0), 1, node.name);
  }

  /** BatchNormalization of `x` with scale, offset, mean, variance at inputs first.. of the TF node. */
  private batchNormOf(node: TfNode, x: Computed, first: number, name: string): Computed {
    const params = ['scale', 'offset', 'mean', 'variance'].map((what, k) => {
      const c = this.floats(node, first + k, `the ${what}`, 1);
      return this.initializer(`${name}/${what}`, c.shape, c.data);
    });
    // TensorFlow's default epsilon is 1e-4 (ONNX's 1e-5), so it is always written out.
    return this.emit('BatchNormalization', name, [x.name, ...params], x, { epsilon: { kind: 'float', value: floatAttr(node, 'epsilon', 1e-4) } });
  }

  /** Global average pooling: the mean over H and W. */
  mean(node: TfNode): Computed {
    const x = this.tensor(node, 0);
    const axes = Array.from(this.constant(node, 1, 'the axes', 'int32').data, (a) => (a < 0 ? a + x.rank : a)).sort();
    if (x.rank !== 4 || axes.join() !== '1,2') throw nodeError(node, `a mean over axes [${axes.join(', ')}] of a rank-${x.rank} tensor is not supported (only over H and W of a feature map)`);
    if (boolAttr(node, 'keep_dims')) return this.emit('GlobalAveragePool', node.name, [x.name], x);
    const pooled = this.emit('GlobalAveragePool', `${node.name}/pool`, [x.name], x);
    return this.emit('Flatten', node.name, [pooled.name], { rank: 2 });
  }

  reshape(node: TfNode): Computed {
    const x = this.tensor(node, 0);
    const target = this.reshapeTarget(node);
    const unsupported = () => nodeError(node, `reshaping a rank-${x.rank} tensor to [${target.join(', ')}] is not supported (the NHWC and NCHW element orders differ)`);
    const shape = (dims: number[]) => this.initializer(`${node.name}/shape`, [dims.length], dims, 'int64');
    if (x.rank === 4) {
      if (target.length !== 2) throw unsupported();
      // Flattening: [0, K] keeps the batch, so shape inference refuses any other split of the
      // elements. Only a 1x1 map (K = C) has the same element order in both layouts.
      const flat = target[1] !== -1 && target[1] === x.channels ? {} : { flattenedChannels: x.channels };
      if ('flattenedChannels' in flat && x.channels === undefined) throw nodeError(node, 'flattening a feature map of unknown channel count is not supported');
      return this.emit('Reshape', node.name, [x.name, shape([0, target[1]])], { rank: 2, ...flat });
    }
    if (target.length === 4) {
      // A [N, C] vector back to a 1x1 feature map: [N, 1, 1, C] in NHWC.
      if (target[1] !== 1 || target[2] !== 1) throw unsupported();
      return this.emit('Reshape', node.name, [x.name, shape([target[0], target[3], 1, 1])], { rank: 4, channels: target[3] });
    }
    return this.emit('Reshape', node.name, [x.name, shape(target)], { rank: target.length });
  }

  /** TF's target shape, with 0 (ONNX: copy the input's) for a batch size read from a tensor's shape. */
  private reshapeTarget(node: TfNode): number[] {
    const v = this.value(node, 1);
    const dims: Dim[] = v.kind === 'dims' ? v.dims : Array.from(this.constant(node, 1, 'the target shape', 'int32').data);
    const shown = dims.map((d) => (typeof d === 'number' ? d : '?')).join(', ');
    return dims.map((d, k) => {
      if (typeof d !== 'number') {
        if (k !== 0 || d.axis !== 0) throw nodeError(node, `target shape [${shown}] depends on the input's spatial size, which is not supported`);
        return 0;
      }
      if (d === 0 || d < -1) throw nodeError(node, `target shape [${shown}] is not supported`);
      return d;
    });
  }

  /** The shape of a computed tensor, as far as known (the channels of a feature map). */
  shape(node: TfNode): Value {
    const x = this.tensor(node, 0, true);
    const dims = Array.from({ length: x.rank }, (_, axis): Dim => (x.rank === 4 && axis === 3 && x.channels !== undefined ? x.channels : { axis }));
    return { kind: 'dims', dims, scalar: false };
  }

  /** A slice of a shape, as Keras takes the batch size: shape[0] or shape[0:1]. */
  stridedSlice(node: TfNode): Value {
    const v = this.value(node, 0);
    if (v.kind !== 'dims' || v.scalar) throw nodeError(node, 'only slices of a shape (Shape) are supported');
    const [begin, end, strides] = [1, 2, 3].map((i) => Array.from(this.constant(node, i, ['the begin', 'the end', 'the strides'][i - 1], 'int32').data));
    const mask = (name: string) => toInt(node, name, attrOf(node, name)?.i ?? 0);
    if (begin.length !== 1 || end.length !== 1 || strides[0] !== 1 || mask('ellipsis_mask') || mask('new_axis_mask')) {
      throw nodeError(node, 'only a unit-stride slice of a shape is supported');
    }
    const n = v.dims.length;
    const clamp = (i: number) => Math.min(n, Math.max(0, i < 0 ? i + n : i));
    const from = mask('begin_mask') & 1 ? 0 : clamp(begin[0]);
    if (mask('shrink_axis_mask') & 1) {
      if (from >= n) throw nodeError(node, `index ${begin[0]} is outside a shape of ${n} dimensions`);
      return { kind: 'dims', dims: [v.dims[from]], scalar: true };
    }
    return { kind: 'dims', dims: v.dims.slice(from, mask('end_mask') & 1 ? n : clamp(end[0])), scalar: false };
  }

  /** Scalars (shape entries or constants) packed into a shape vector. */
  pack(node: TfNode): Value {
    if (toInt(node, 'axis', attrOf(node, 'axis')?.i ?? 0) !== 0) throw nodeError(node, 'only packing along axis 0 is supported');
    const dims = node.inputs.map((_, i): Dim => {
      const v = this.value(node, i);
      if (v.kind === 'dims' && v.scalar) return v.dims[0];
      const c = v.kind === 'const' ? v.value : undefined;
      if (!c || c.dtype !== 'int32' || c.shape.length !== 0) throw nodeError(node, `input ${i} is neither a shape entry nor an integer constant`);
      return c.data[0];
    });
    return { kind: 'dims', dims, scalar: false };
  }

  /** Squeezing H and W, which TensorFlow allows only when both are 1. */
  squeeze(node: TfNode): Computed {
    const x = this.tensor(node, 0);
    const dims = intsAttr(node, 'squeeze_dims', []).map((a) => (a < 0 ? a + x.rank : a)).sort();
    if (x.rank !== 4 || dims.join() !== '1,2') throw nodeError(node, `squeezing axes [${dims.join(', ')}] of a rank-${x.rank} tensor is not supported (only H and W of a 1x1 feature map)`);
    return this.emit('Flatten', node.name, [x.name], { rank: 2 });
  }

  pad(node: TfNode): Computed {
    const x = this.tensor(node, 0);
    const paddings = this.constant(node, 1, 'the paddings', 'int32');
    if (paddings.shape.join() !== `${x.rank},2`) throw nodeError(node, `paddings have shape [${paddings.shape.join(', ')}] for a rank-${x.rank} input`);
    const order = x.rank === 4 ? [0, 3, 1, 2] : [...Array(x.rank).keys()];
    const p = Array.from(paddings.data);
    const pads = [...order.map((a) => p[2 * a]), ...order.map((a) => p[2 * a + 1])];
    const inputs = [x.name, this.initializer(`${node.name}/pads`, [pads.length], pads, 'int64')];
    let mode = 'constant';
    if (node.op === 'PadV2') {
      const value = this.floats(node, 2, 'the pad value');
      if (value.data.length !== 1) throw nodeError(node, 'the pad value must be a single number');
      inputs.push(this.initializer(`${node.name}/value`, [], value.data));
    } else if (node.op === 'MirrorPad') {
      if (stringAttr(node, 'mode') !== 'REFLECT') throw nodeError(node, `mode ${stringAttr(node, 'mode')} is not supported (REFLECT is)`);
      mode = 'reflect';
    }
    return this.emit('Pad', node.name, inputs, x, { mode: { kind: 'string', value: mode } });
  }

  concat(node: TfNode): Computed {
    const parts = node.inputs.slice(0, -1).map((_, i) => this.tensor(node, i));
    const axisValue = this.constant(node, node.inputs.length - 1, 'the axis', 'int32').data;
    const rank = parts[0]?.rank;
    if (rank === undefined || parts.some((p) => p.rank !== rank)) throw nodeError(node, 'the inputs must be tensors of one rank');
    if (axisValue.length !== 1) throw nodeError(node, 'the axis must be a single integer');
    const axis = axisValue[0] < 0 ? axisValue[0] + rank : axisValue[0];
    const onnxAxis = rank === 4 ? (NHWC_TO_NCHW_AXIS[axis] ?? axis) : axis;
    const channels = rank === 4 && onnxAxis !== 1 ? parts[0].channels : parts.reduce<number | undefined>((sum, p) => (sum === undefined || p.channels === undefined ? undefined : sum + p.channels), 0);
    return this.emit('Concat', node.name, parts.map((p) => p.name), { rank, channels }, { axis: { kind: 'int', value: onnxAxis } });
  }

  softmax(node: TfNode): Computed {
    const x = this.tensor(node, 0);
    // TF normalizes the last axis: channels, which NCHW keeps at axis 1.
    return this.emit('Softmax', node.name, [x.name], x, { axis: { kind: 'int', value: x.rank === 4 ? 1 : -1 } });
  }
}
