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

export type InitSpec = { shape: number[]; floats: ArrayLike<number> } | { shape: number[]; int64s: number[] };

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
