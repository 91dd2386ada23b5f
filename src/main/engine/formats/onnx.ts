// ONNX reader: decodes the protobuf and turns it into the format-neutral GraphDescription. Every
// size is checked before anything is allocated (what decoding itself would allocate too, on the
// wire format: ./onnx-wire.ts), so a damaged or hostile file ends in a ModelFormatError naming
// what is wrong, never in a crash, a hang or a giant allocation.
import onnxProto, { type onnx as OnnxTypes } from 'onnx-proto';
import { ModelFormatError } from '../errors';
import { scanOnnxWire } from './onnx-wire';
import {
  MAX_TENSOR_ELEMENTS,
  type AttrValue,
  type ConstTensor,
  type GraphDescription,
  type GraphInput,
  type GraphNode,
} from '../graph/ir';

const { onnx } = onnxProto;
type Long = { toNumber(): number; low: number; high: number };
type IntLike = number | Long | null | undefined;

/** Largest spatial or channel size a graph input may declare. */
const MAX_INPUT_DIM = 1 << 16;
/** Most dimensions a tensor may have (vision networks use up to 6). */
export const MAX_TENSOR_RANK = 16;

export function parseOnnx(bytes: Uint8Array, source: string): GraphDescription {
  const fail = (msg: string): never => {
    throw new ModelFormatError(`${source}: ${msg}`);
  };
  scanOnnxWire(bytes, source); // bounds what decoding allocates, before it does
  let model: ReturnType<typeof onnx.ModelProto.decode>;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    return fail(`not a valid ONNX file (${err instanceof Error ? err.message : String(err)})`);
  }
  const graph = model.graph;
  if (!graph) return fail('not an ONNX model: it has no graph');
  if (!graph.node || graph.node.length === 0) return fail('the ONNX graph has no nodes');

  const opsetEntry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  if (!opsetEntry) fail('the file declares no opset for the default ONNX domain');
  const opset = toInt(opsetEntry!.version, 'opset version', fail);

  const initializers = new Map<string, ConstTensor>();
  for (const t of graph.initializer ?? []) {
    if (!t.name) fail('an initializer has no name');
    if (initializers.has(t.name!)) fail(`initializer "${t.name}" is defined twice`);
    initializers.set(t.name!, readTensor(t, `initializer "${t.name}"`, fail));
  }

  const inputs: GraphInput[] = [];
  for (const vi of graph.input ?? []) {
    if (!vi.name) fail('a graph input has no name');
    if (initializers.has(vi.name!)) continue; // IR < 4 lists initializers as inputs too
    inputs.push(readInput(vi, fail));
  }
  const outputs = (graph.output ?? []).map((o) => o.name ?? '');
  if (outputs.length === 0 || outputs.some((o) => !o)) fail('the graph outputs are missing or unnamed');

  const nodes: GraphNode[] = graph.node.map((n, i) => {
    const op = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType ?? ''}` : (n.opType ?? '');
    if (!n.opType) fail(`node #${i} has no operator type`);
    const name = n.name || `${op}#${i}`;
    const attrs: Record<string, AttrValue> = {};
    for (const a of n.attribute ?? []) {
      if (!a.name) fail(`node ${name} (${op}) has an unnamed attribute`);
      attrs[a.name!] = readAttr(a, `attribute ${a.name} of node ${name} (${op})`, fail);
    }
    const outs = n.output ?? [];
    if (outs.length === 0 || outs.some((o) => !o)) fail(`node ${name} (${op}) has a missing output name`);
    return { name, op, inputs: [...(n.input ?? [])], outputs: [...outs], attrs };
  });

  const metadata: Record<string, string> = {};
  for (const p of model.metadataProps ?? []) if (p.key) metadata[p.key] = p.value ?? '';

  return { source, opset, inputs, outputs, nodes, initializers, metadata };
}

function toInt(v: IntLike, what: string, fail: (m: string) => never): number {
  const n = v == null ? 0 : typeof v === 'number' ? v : v.toNumber();
  // INT64_MAX and INT64_MIN are how exporters say "to the end" (Slice ends of x.shape[2:]); every
  // operator clamps them as it clamps the largest safe integer.
  if (Math.abs(n) >= 2 ** 63) return Math.sign(n) * Number.MAX_SAFE_INTEGER;
  if (!Number.isSafeInteger(n)) fail(`${what} is not a usable integer (${String(v)})`);
  return n;
}

/**
 * Integer tensor data and attribute lists. Exporters write INT64_MAX / INT64_MIN as "to the end"
 * bounds (PyTorch's x[:, 1:] is a Slice ending at INT64_MAX); past 2^53 they are saturated, which
 * still lies beyond any axis.
 */
function toBound(v: IntLike, what: string, fail: (m: string) => never): number {
  const n = v == null ? 0 : typeof v === 'number' ? v : v.toNumber();
  if (!Number.isFinite(n) || !Number.isInteger(n)) fail(`${what} is not a usable integer (${String(v)})`);
  return Math.max(-Number.MAX_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, n));
}

function readInput(vi: OnnxTypes.IValueInfoProto, fail: (m: string) => never): GraphInput {
  const tt = vi.type?.tensorType;
  if (!tt) return fail(`graph input "${vi.name}" is not a tensor`);
  if (tt.elemType !== onnx.TensorProto.DataType.FLOAT) {
    fail(`graph input "${vi.name}" has element type ${dtypeName(tt.elemType ?? 0)}; only float32 inputs are supported`);
  }
  if ((tt.shape?.dim?.length ?? 0) > MAX_TENSOR_RANK) fail(`graph input "${vi.name}" has ${tt.shape!.dim!.length} dimensions; at most ${MAX_TENSOR_RANK} are supported`);
  const shape = (tt.shape?.dim ?? []).map((d, i) => {
    if (d.dimValue == null || d.dimParam) return null;
    const v = toInt(d.dimValue, `dimension ${i} of graph input "${vi.name}"`, fail);
    if (v < 0 || v > MAX_INPUT_DIM) fail(`graph input "${vi.name}" has an impossible dimension ${v} on axis ${i}`);
    return v === 0 ? null : v; // some exporters write 0 for "unknown"
  });
  return { name: vi.name!, shape };
}

const DTYPES: Record<number, { name: ConstTensor['dtype']; bytes: number } | undefined> = {
  [onnx.TensorProto.DataType.FLOAT]: { name: 'float32', bytes: 4 },
  [onnx.TensorProto.DataType.DOUBLE]: { name: 'float32', bytes: 8 },
  [onnx.TensorProto.DataType.INT32]: { name: 'int64', bytes: 4 },
  [onnx.TensorProto.DataType.INT64]: { name: 'int64', bytes: 8 },
};

function dtypeName(code: number): string {
  return onnx.TensorProto.DataType[code] ?? `#${code}`;
}

/** Validates dims and data size first, then copies the data into a typed array of its own. */
function readTensor(t: OnnxTypes.ITensorProto, what: string, fail: (m: string) => never): ConstTensor {
  if ((t.dims?.length ?? 0) > MAX_TENSOR_RANK) fail(`${what} has ${t.dims!.length} dimensions; at most ${MAX_TENSOR_RANK} are supported`);
  const code = t.dataType ?? 0;
  const dtype = DTYPES[code];
  if (!dtype) return fail(`${what} has data type ${dtypeName(code)}, which is not supported (float32, float64, int32, int64 are)`);
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    fail(`${what} keeps its data in an external file, which is not supported; re-export with the weights inside the .onnx file`);
  }
  if (t.segment) fail(`${what} is a segmented tensor, which is not supported`);
  const shape = (t.dims ?? []).map((d, i) => {
    const v = toInt(d, `dimension ${i} of ${what}`, fail);
    if (v < 0) fail(`${what} has a negative dimension ${v}`);
    return v;
  });
  let count = 1;
  for (const d of shape) {
    count *= d;
    if (count > MAX_TENSOR_ELEMENTS) fail(`${what} has huge dimensions [${shape.join(', ')}]`);
  }

  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : null;
  const typed = typedField(t, code);
  if (raw && typed.length > 0) fail(`${what} has both raw_data and typed data`);
  const have = raw ? raw.length / dtype.bytes : typed.length;
  if (have !== count) {
    fail(`${what} has shape [${shape.join(', ')}] (${count} values) but holds ${have} values`);
  }
  const name = t.name ?? '';
  if (dtype.name === 'float32') {
    const data = new Float32Array(count);
    if (raw) {
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      if (dtype.bytes === 4) for (let i = 0; i < count; i++) data[i] = view.getFloat32(i * 4, true);
      else for (let i = 0; i < count; i++) data[i] = view.getFloat64(i * 8, true);
    } else {
      for (let i = 0; i < count; i++) data[i] = typed[i] as number;
    }
    return { name, shape, dtype: 'float32', data };
  }
  const data = new Float64Array(count);
  if (raw) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < count; i++) {
      data[i] = dtype.bytes === 4 ? view.getInt32(i * 4, true) : toBound(Number(view.getBigInt64(i * 8, true)), what, fail);
    }
  } else {
    for (let i = 0; i < count; i++) data[i] = toBound(typed[i] as IntLike, what, fail);
  }
  return { name, shape, dtype: 'int64', data };
}

function typedField(t: OnnxTypes.ITensorProto, code: number): readonly (number | Long)[] {
  const D = onnx.TensorProto.DataType;
  if (code === D.FLOAT) return t.floatData ?? [];
  if (code === D.DOUBLE) return t.doubleData ?? [];
  if (code === D.INT32) return t.int32Data ?? [];
  return (t.int64Data ?? []) as (number | Long)[];
}

function readAttr(a: OnnxTypes.IAttributeProto, what: string, fail: (m: string) => never): AttrValue {
  const T = onnx.AttributeProto.AttributeType;
  const ints = () => (a.ints ?? []).map((v) => toBound(v as IntLike, what, fail));
  switch (a.type ?? T.UNDEFINED) {
    case T.INT:
      return { kind: 'int', value: toInt(a.i as IntLike, what, fail) };
    case T.INTS:
      return { kind: 'ints', value: ints() };
    case T.FLOAT:
      return { kind: 'float', value: a.f ?? 0 };
    case T.FLOATS:
      return { kind: 'floats', value: [...(a.floats ?? [])] };
    case T.STRING:
      return { kind: 'string', value: new TextDecoder().decode(a.s ?? new Uint8Array()) };
    case T.TENSOR:
      if (!a.t) return fail(`${what} is a tensor attribute without a tensor`);
      return { kind: 'tensor', value: readTensor(a.t, what, fail) };
    case T.UNDEFINED:
      // Old exporters leave the type unset; only lists and tensors can be told apart safely.
      if (a.ints && a.ints.length > 0) return { kind: 'ints', value: ints() };
      if (a.floats && a.floats.length > 0) return { kind: 'floats', value: [...a.floats] };
      if (a.t) return { kind: 'tensor', value: readTensor(a.t, what, fail) };
      return { kind: 'other', type: 'UNDEFINED' };
    default:
      return { kind: 'other', type: T[a.type!] ?? `#${a.type}` };
  }
}
