// ONNX reader: decodes the protobuf and turns it into the format-neutral GraphDescription. Every
// size is checked before anything is allocated (what decoding itself would allocate too, on the
// wire format: ./onnx-wire.ts), so a damaged or hostile file ends in a ModelFormatError naming
// what is wrong, never in a crash, a hang or a giant allocation.
import onnxProto, { type onnx as OnnxTypes } from 'onnx-proto';
import { ModelFormatError } from '../errors';
import { bfloat16ToFloat, halfToFloat } from './half-float';
import { ExternalDataReader } from './onnx-external';
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

export interface OnnxReadOptions {
  /** The folder the model file is in, where tensors stored as external data are looked for. */
  externalDataDir?: string;
}

export function parseOnnx(bytes: Uint8Array, source: string, opts: OnnxReadOptions = {}): GraphDescription {
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

  const external = new ExternalDataReader(opts.externalDataDir, fail);
  try {
    return readGraph(model, graph, { source, opset }, external, fail);
  } finally {
    external.close();
  }
}

function readGraph(
  model: OnnxTypes.IModelProto,
  graph: OnnxTypes.IGraphProto,
  { source, opset }: { source: string; opset: number },
  external: ExternalDataReader,
  fail: (m: string) => never,
): GraphDescription {
  const initializers = new Map<string, ConstTensor>();
  for (const t of graph.initializer ?? []) {
    if (!t.name) fail('an initializer has no name');
    if (initializers.has(t.name!)) fail(`initializer "${t.name}" is defined twice`);
    initializers.set(t.name!, readTensor(t, `initializer "${t.name}"`, external, fail));
  }

  const inputs: GraphInput[] = [];
  for (const vi of graph.input ?? []) {
    if (!vi.name) fail('a graph input has no name');
    if (initializers.has(vi.name!)) continue; // IR < 4 lists initializers as inputs too
    inputs.push(readInput(vi, fail));
  }
  const outputs = (graph.output ?? []).map((o) => o.name ?? '');
  if (outputs.length === 0 || outputs.some((o) => !o)) fail('the graph outputs are missing or unnamed');

  const nodes: GraphNode[] = (graph.node ?? []).map((n, i) => {
    const op = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType ?? ''}` : (n.opType ?? '');
    if (!n.opType) fail(`node #${i} has no operator type`);
    const name = n.name || `${op}#${i}`;
    const attrs: Record<string, AttrValue> = {};
    for (const a of n.attribute ?? []) {
      if (!a.name) fail(`node ${name} (${op}) has an unnamed attribute`);
      attrs[a.name!] = readAttr(a, `attribute ${a.name} of node ${name} (${op})`, external, fail);
    }
    const outs = n.output ?? [];
    if (outs.length === 0 || outs.some((o) => !o)) fail(`node ${name} (${op}) has a missing output name`);
    return { name, op, inputs: [...(n.input ?? [])], outputs: [...outs], attrs };
  });

  const metadata: Record<string, string> = {};
  for (const p of model.metadataProps ?? []) if (p.key) metadata[p.key] = p.value ?? '';

  return { source, opset, inputs, outputs, nodes, initializers, metadata };
}

/**
 * The external data files an ONNX file's tensors refer to (locations relative to the model's
 * folder, each once): what has to travel with the model when it is copied.
 */
export function onnxExternalDataLocations(bytes: Uint8Array, source: string): string[] {
  scanOnnxWire(bytes, source);
  const graph = onnx.ModelProto.decode(bytes).graph;
  const attributeTensors = (graph?.node ?? []).flatMap((n) => (n.attribute ?? []).flatMap((a) => [a.t, ...(a.tensors ?? [])]));
  const locations = new Set<string>();
  for (const t of [...(graph?.initializer ?? []), ...attributeTensors]) {
    if (t?.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) continue;
    const location = t.externalData?.find((e) => e.key === 'location')?.value;
    if (location) locations.add(location);
  }
  return [...locations];
}

/**
 * Integers past 2^53 saturate at ±(2^53 - 1): exporters write INT64_MAX / INT64_MIN (or other huge
 * values) as "to the end" bounds (PyTorch's x[:, 1:] is a Slice ending at INT64_MAX), and a
 * saturated bound still lies beyond any axis.
 */
function int64Bound(n: number): number {
  return Math.max(-Number.MAX_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, n));
}

function toInt(v: IntLike, what: string, fail: (m: string) => never): number {
  const n = int64Bound(v == null ? 0 : typeof v === 'number' ? v : v.toNumber());
  if (!Number.isSafeInteger(n)) fail(`${what} is not a usable integer (${String(v)})`);
  return n;
}

function readInput(vi: OnnxTypes.IValueInfoProto, fail: (m: string) => never): GraphInput {
  const tt = vi.type?.tensorType;
  if (!tt) return fail(`graph input "${vi.name}" is not a tensor`);
  if (ELEMENT_TYPES[tt.elemType ?? 0]?.dtype !== 'float32') {
    fail(`graph input "${vi.name}" has element type ${dtypeName(tt.elemType ?? 0)}; only floating-point image inputs are supported`);
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

type TypedField = 'floatData' | 'doubleData' | 'int32Data' | 'int64Data';

/**
 * How each supported element type is stored: bytes per value in raw_data, how to read one there,
 * and which typed field holds it otherwise (16-bit floats as their bit patterns in int32_data).
 * Floats of every width become float32 tensors; integers and booleans become integer tensors.
 */
interface ElementType {
  dtype: ConstTensor['dtype'];
  bytes: number;
  raw: (view: DataView, offset: number) => number;
  field: TypedField;
  /** Turns an int32_data word into the value (16-bit floats). */
  word?: (bits: number) => number;
}

const D = onnx.TensorProto.DataType;
const ELEMENT_TYPES: Partial<Record<number, ElementType>> = {
  [D.FLOAT]: { dtype: 'float32', bytes: 4, raw: (v, o) => v.getFloat32(o, true), field: 'floatData' },
  [D.DOUBLE]: { dtype: 'float32', bytes: 8, raw: (v, o) => v.getFloat64(o, true), field: 'doubleData' },
  [D.FLOAT16]: { dtype: 'float32', bytes: 2, raw: (v, o) => halfToFloat(v.getUint16(o, true)), field: 'int32Data', word: halfToFloat },
  [D.BFLOAT16]: { dtype: 'float32', bytes: 2, raw: (v, o) => bfloat16ToFloat(v.getUint16(o, true)), field: 'int32Data', word: bfloat16ToFloat },
  [D.INT8]: { dtype: 'int64', bytes: 1, raw: (v, o) => v.getInt8(o), field: 'int32Data' },
  [D.UINT8]: { dtype: 'int64', bytes: 1, raw: (v, o) => v.getUint8(o), field: 'int32Data' },
  [D.INT16]: { dtype: 'int64', bytes: 2, raw: (v, o) => v.getInt16(o, true), field: 'int32Data' },
  [D.UINT16]: { dtype: 'int64', bytes: 2, raw: (v, o) => v.getUint16(o, true), field: 'int32Data' },
  [D.INT32]: { dtype: 'int64', bytes: 4, raw: (v, o) => v.getInt32(o, true), field: 'int32Data' },
  [D.INT64]: { dtype: 'int64', bytes: 8, raw: (v, o) => int64Bound(Number(v.getBigInt64(o, true))), field: 'int64Data' },
  [D.BOOL]: { dtype: 'int64', bytes: 1, raw: (v, o) => (v.getUint8(o) ? 1 : 0), field: 'int32Data' },
};
const SUPPORTED_TYPES = 'float32, float16, bfloat16, float64, int8/16/32/64, uint8/16, bool';

function dtypeName(code: number): string {
  return onnx.TensorProto.DataType[code] ?? `#${code}`;
}

/** Validates dims and data size first, then copies the data into a typed array of its own. */
function readTensor(t: OnnxTypes.ITensorProto, what: string, external: ExternalDataReader, fail: (m: string) => never): ConstTensor {
  if ((t.dims?.length ?? 0) > MAX_TENSOR_RANK) fail(`${what} has ${t.dims!.length} dimensions; at most ${MAX_TENSOR_RANK} are supported`);
  const code = t.dataType ?? 0;
  const type = ELEMENT_TYPES[code];
  if (!type) return fail(`${what} has data type ${dtypeName(code)}, which is not supported (${SUPPORTED_TYPES} are)`);
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

  const typed = (t[type.field] ?? []) as readonly (number | Long)[];
  let raw = t.rawData && t.rawData.length > 0 ? t.rawData : null;
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    if (raw || typed.length > 0) fail(`${what} keeps its data in an external file and in the model file at once`);
    raw = external.read(t.externalData ?? [], what, count * type.bytes);
  }
  if (raw && typed.length > 0) fail(`${what} has both raw_data and typed data`);
  const have = raw ? raw.length / type.bytes : typed.length;
  if (have !== count) {
    fail(`${what} has shape [${shape.join(', ')}] (${count} values) but holds ${have} values`);
  }
  const data = type.dtype === 'float32' ? new Float32Array(count) : new Float64Array(count);
  if (raw) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < count; i++) data[i] = type.raw(view, i * type.bytes);
  } else {
    for (let i = 0; i < count; i++) {
      const v = typed[i];
      data[i] = type.word ? type.word(v as number) : type.dtype === 'float32' ? (v as number) : toInt(v, what, fail);
    }
  }
  if (type.dtype === 'int64') for (const v of data) if (!Number.isSafeInteger(v)) fail(`${what} holds ${v}, which is not a usable integer`);
  return type.dtype === 'float32'
    ? { name: t.name ?? '', shape, dtype: 'float32', data: data as Float32Array }
    : { name: t.name ?? '', shape, dtype: 'int64', data: data as Float64Array };
}

function readAttr(a: OnnxTypes.IAttributeProto, what: string, external: ExternalDataReader, fail: (m: string) => never): AttrValue {
  const T = onnx.AttributeProto.AttributeType;
  const ints = () => (a.ints ?? []).map((v) => toInt(v as IntLike, what, fail));
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
      return { kind: 'tensor', value: readTensor(a.t, what, external, fail) };
    case T.UNDEFINED:
      // Old exporters leave the type unset; only lists and tensors can be told apart safely.
      if (a.ints && a.ints.length > 0) return { kind: 'ints', value: ints() };
      if (a.floats && a.floats.length > 0) return { kind: 'floats', value: [...a.floats] };
      if (a.t) return { kind: 'tensor', value: readTensor(a.t, what, external, fail) };
      return { kind: 'other', type: 'UNDEFINED' };
    default:
      return { kind: 'other', type: T[a.type!] ?? `#${a.type}` };
  }
}
