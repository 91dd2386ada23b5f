// Builds small ONNX models in tests (encoded with onnx-proto), so every operator can be checked
// against onnxruntime-node and bad files can be made on purpose.
import onnxProto, { type onnx as OnnxTypes } from 'onnx-proto';

const { onnx } = onnxProto;
const A = onnx.AttributeProto.AttributeType;

export type Attr = { i: number } | { f: number } | { ints: number[] } | { floats: number[] } | { s: string } | { t: InitSpec };
export const int = (i: number): Attr => ({ i });
export const float = (f: number): Attr => ({ f });
export const ints = (v: number[]): Attr => ({ ints: v });
export const str = (s: string): Attr => ({ s });
export const tensorAttr = (t: InitSpec): Attr => ({ t });

export interface NodeSpec {
  op: string;
  inputs: string[];
  /** Several names for an op with several outputs (Split). */
  output: string | string[];
  attrs?: Record<string, Attr>;
}

/** `floats` are stored as float32; `raw` holds little-endian values of any ONNX `dataType` (float16 ...). */
export type InitSpec = { shape: number[]; floats: ArrayLike<number> } | { shape: number[]; int64s: number[] } | { shape: number[]; dataType: number; raw: Uint8Array };

export interface ModelSpec {
  /** Input "x" in NCHW; strings are dynamic dimensions. */
  input?: (number | string)[];
  nodes: NodeSpec[];
  inits?: Record<string, InitSpec>;
  /** Defaults to every node output but Constants'. */
  outputs?: string[];
  opset?: number;
  metadata?: Record<string, string>;
}

function attribute(name: string, a: Attr): OnnxTypes.IAttributeProto {
  if ('i' in a) return { name, type: A.INT, i: a.i };
  if ('f' in a) return { name, type: A.FLOAT, f: a.f };
  if ('ints' in a) return { name, type: A.INTS, ints: a.ints };
  if ('floats' in a) return { name, type: A.FLOATS, floats: a.floats };
  if ('t' in a) return { name, type: A.TENSOR, t: tensorProto(name, a.t) };
  return { name, type: A.STRING, s: new TextEncoder().encode(a.s) };
}

export function tensorProto(name: string, t: InitSpec): OnnxTypes.ITensorProto {
  if ('floats' in t) {
    const raw = new Uint8Array(Float32Array.from(t.floats).buffer);
    return { name, dims: t.shape, dataType: onnx.TensorProto.DataType.FLOAT, rawData: raw };
  }
  if ('raw' in t) return { name, dims: t.shape, dataType: t.dataType, rawData: t.raw };
  return { name, dims: t.shape, dataType: onnx.TensorProto.DataType.INT64, int64Data: t.int64s };
}

export function buildModel(spec: ModelSpec): Uint8Array {
  const dims = (spec.input ?? ['N', 3, 'H', 'W']).map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  const outputs = spec.outputs ?? spec.nodes.filter((n) => n.op !== 'Constant').flatMap((n) => n.output);
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'artiphys-test',
    opsetImport: [{ domain: '', version: spec.opset ?? 17 }],
    metadataProps: Object.entries(spec.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: 'test',
      input: [{ name: 'x', type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims } } } }],
      output: outputs.map((name) => ({ name })),
      initializer: Object.entries(spec.inits ?? {}).map(([name, t]) => tensorProto(name, t)),
      node: spec.nodes.map((n, k) => ({
        name: `${n.op.toLowerCase()}_${k}`,
        opType: n.op,
        input: n.inputs,
        output: [n.output].flat(),
        attribute: Object.entries(n.attrs ?? {}).map(([name, a]) => attribute(name, a)),
      })),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Seeded uniform numbers in [-scale, scale). */
export function randomArray(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

/** A float initializer of the given shape with seeded random values. */
export function weights(shape: number[], seed: number, scale = 0.5): InitSpec {
  return { shape, floats: randomArray(shape.reduce((a, b) => a * b, 1), seed, scale) };
}

/**
 * Moves the raw data of a model's initializers into one external data file named `location`
 * (as `onnx.save(..., save_as_external_data=True)` does): returns the model that refers to it and
 * the file's bytes. Each tensor starts on a multiple of `align` bytes.
 */
export function withExternalData(model: Uint8Array, location: string, align = 64): { model: Uint8Array; data: Uint8Array } {
  const m = onnx.ModelProto.decode(model);
  const parts: Uint8Array[] = [];
  let size = 0;
  for (const t of m.graph!.initializer!) {
    if (!t.rawData?.length) continue;
    const offset = Math.ceil(size / align) * align;
    if (offset > size) parts.push(new Uint8Array(offset - size));
    parts.push(Uint8Array.from(t.rawData));
    size = offset + t.rawData.length;
    t.externalData = [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(t.rawData.length) },
    ];
    t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    t.rawData = new Uint8Array(0);
  }
  const data = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    data.set(p, at);
    at += p.length;
  }
  return { model: onnx.ModelProto.encode(m).finish(), data };
}

/** Seeded random half-precision bit patterns of normal numbers with magnitudes in [2^-6, 2). */
export function randomHalfBits(n: number, seed: number): Uint16Array {
  const u = randomArray(2 * n, seed);
  return Uint16Array.from({ length: n }, (_, i) => {
    const sign = u[2 * i] < 0 ? 0x8000 : 0;
    const exponent = 9 + Math.floor(Math.abs(u[2 * i]) * 7); // 2^-6 .. 2^0
    return sign | (exponent << 10) | Math.floor(Math.abs(u[2 * i + 1]) * 1024);
  });
}
