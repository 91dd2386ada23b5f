// Builds small TensorFlow.js graph models (model.json + weight shard) in tests, as the tfjs
// converter writes them: a GraphDef in protobuf JSON (int64 as strings, strings as base64) and
// the Const nodes' values in the weightsManifest, optionally quantized.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { randomArray } from './onnx-builder';

type Quantization = 'uint8' | 'uint16' | 'float16';

export interface ConstSpec {
  shape: number[];
  data: ArrayLike<number>;
  dtype?: 'float32' | 'int32';
  quantize?: Quantization;
}

export interface TfNodeSpec {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, unknown>;
}

export interface GraphModelSpec {
  /** NHWC; -1 for a dynamic dimension. */
  input: number[];
  nodes: TfNodeSpec[];
  consts: Record<string, ConstSpec>;
  outputs?: string[];
}

export const s = (v: string) => ({ s: Buffer.from(v).toString('base64') });
export const f = (v: number) => ({ f: v });
export const b = (v: boolean) => ({ b: v });
export const listI = (v: number[]) => ({ list: { i: v.map(String) } });
export const listS = (v: string[]) => ({ list: { s: v.map((x) => Buffer.from(x).toString('base64')) } });

/** A float constant with seeded random values. */
export function floats(shape: number[], seed: number, scale = 0.5, quantize?: Quantization): ConstSpec {
  return { shape, data: randomArray(shape.reduce((a, c) => a * c, 1), seed, scale), quantize };
}

export function int32s(values: number[], shape = [values.length]): ConstSpec {
  return { shape, data: values, dtype: 'int32' };
}

/** IEEE 754 half precision bits of a number (round to nearest; the values here are normal). */
function toHalf(v: number): number {
  const f32 = new Float32Array([v]);
  const bits = new Uint32Array(f32.buffer)[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = ((bits >>> 23) & 0xff) - 127 + 15;
  const mant = bits & 0x7fffff;
  if (exp <= 0) return sign;
  return sign | (exp << 10) | Math.round(mant / 8192);
}

function encode(c: ConstSpec): { bytes: Uint8Array; quantization?: Record<string, unknown> } {
  if (!c.quantize) {
    const typed = c.dtype === 'int32' ? Int32Array.from(c.data) : Float32Array.from(c.data);
    return { bytes: new Uint8Array(typed.buffer) };
  }
  if (c.quantize === 'float16') return { bytes: new Uint8Array(Uint16Array.from(c.data, toHalf).buffer), quantization: { dtype: 'float16' } };
  const values = Array.from(c.data);
  const min = Math.min(...values);
  const levels = c.quantize === 'uint8' ? 255 : 65535;
  const scale = (Math.max(...values) - min) / levels || 1;
  const q = values.map((v) => Math.round((v - min) / scale));
  const bytes = c.quantize === 'uint8' ? Uint8Array.from(q) : new Uint8Array(Uint16Array.from(q).buffer);
  return { bytes, quantization: { dtype: c.quantize, scale, min } };
}

/** The model.json object and its one shard, as tfjs.converters writes them. */
export function buildGraphModel(spec: GraphModelSpec, shardName = 'group1-shard1of1.bin') {
  const constNodes = Object.entries(spec.consts).map(([name, c]) => ({
    name,
    op: 'Const',
    attr: { dtype: { type: c.dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT' }, value: { tensor: { dtype: c.dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT', tensorShape: { dim: c.shape.map((d) => ({ size: String(d) })) } } } },
  }));
  const placeholder = { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: spec.input.map((d) => ({ size: String(d) })) } } } };
  const encoded = Object.entries(spec.consts).map(([name, c]) => ({ name, c, ...encode(c) }));
  const weights = encoded.map(({ name, c, quantization }) => ({ name, shape: c.shape, dtype: (c.dtype ?? 'float32') as string, ...(quantization ? { quantization } : {}) }));
  const shard = new Uint8Array(encoded.reduce((a, e) => a + e.bytes.length, 0));
  let offset = 0;
  for (const e of encoded) {
    shard.set(e.bytes, offset);
    offset += e.bytes.length;
  }
  const outputs = spec.outputs ?? [spec.nodes[spec.nodes.length - 1].name];
  const json = {
    format: 'graph-model',
    generatedBy: '2.x',
    convertedBy: 'artiphys test builder',
    modelTopology: { node: [placeholder, ...constNodes, ...spec.nodes] as TfNodeSpec[], library: {}, versions: { producer: 1808 } },
    signature: { outputs: Object.fromEntries(outputs.map((o) => [`${o}:0`, { name: `${o}:0`, dtype: 'DT_FLOAT' }])) },
    weightsManifest: [{ paths: [shardName], weights }],
  };
  return { json, shard, weights };
}

/** Writes model.json and its shard into `dir` (created); returns the model.json path. */
export function writeGraphModel(dir: string, spec: GraphModelSpec): string {
  mkdirSync(dir, { recursive: true });
  const { json, shard } = buildGraphModel(spec);
  writeFileSync(path.join(dir, 'group1-shard1of1.bin'), shard);
  const file = path.join(dir, 'model.json');
  writeFileSync(file, JSON.stringify(json));
  return file;
}

/** Largest |ours - reference| relative to the largest |reference|; shapes (sizes, for raw data) must agree. */
export function relativeError(ours: tf.Tensor, ref: tf.Tensor | Float32Array): number {
  const refShape = ref instanceof Float32Array ? [ref.length] : ref.shape;
  if (ref instanceof Float32Array ? ours.size !== ref.length : ours.shape.join() !== refShape.join()) {
    throw new Error(`shape [${ours.shape.join(', ')}] vs reference [${refShape.join(', ')}]`);
  }
  const a = ours.dataSync();
  const r = ref instanceof Float32Array ? ref : ref.dataSync();
  let maxRef = 0;
  let maxDiff = 0;
  for (let i = 0; i < r.length; i++) {
    maxRef = Math.max(maxRef, Math.abs(r[i]));
    maxDiff = Math.max(maxDiff, Math.abs(a[i] - r[i]));
  }
  return maxDiff / Math.max(maxRef, 1e-30);
}
