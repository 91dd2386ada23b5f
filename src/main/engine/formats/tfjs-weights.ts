// Reads the weights of a TensorFlow.js model.json: the `weightsManifest` lists groups of shard
// files (beside model.json) whose concatenated bytes hold the tensors back to back, each
// float32/int32/bool or quantized (uint8/uint16 with scale and min, or float16). Everything is
// checked against the manifest before it is used, so a missing, short or mislabelled shard ends
// in one ModelFormatError naming model.json and the shard.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ModelFormatError } from '../errors';
import { isObject } from '../../../shared/json';
import { MAX_TENSOR_ELEMENTS, elementCount } from '../graph/ir';
import { halfToFloat } from './half-float';

/** A weight as the model uses it: floats, or integers (shapes, axes; bools as 0/1). */
export type TfjsWeight = { shape: number[] } & ({ dtype: 'float32'; data: Float32Array } | { dtype: 'int32'; data: Int32Array });

/** Most bytes all shards of one model may hold together (beyond this it is no vision model). */
const MAX_WEIGHT_BYTES = 2 ** 32;

const STORED_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

interface WeightEntry {
  name: string;
  shape: number[];
  /** The dtype the model uses. */
  dtype: 'float32' | 'int32' | 'bool';
  /** How it is stored (the dtype itself unless quantized). */
  stored: string;
  scale: number;
  min: number;
}

/** All weights of the manifest by name, dequantized; `modelJsonPath` locates the shards and names the file in errors. */
export async function readTfjsWeights(modelJsonPath: string, manifest: unknown): Promise<Map<string, TfjsWeight>> {
  const fail = (msg: string): never => {
    throw new ModelFormatError(`${modelJsonPath}: ${msg}`);
  };
  if (manifest === undefined) return new Map();
  if (!Array.isArray(manifest)) return fail('weightsManifest is not a list of weight groups');
  const weights = new Map<string, TfjsWeight>();
  let totalBytes = 0;
  for (const [g, group] of manifest.entries()) {
    const what = `weight group ${g}`;
    if (!isObject(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) fail(`${what} lacks its "paths" or "weights" list`);
    const { paths, weights: list } = group as { paths: unknown[]; weights: unknown[] };
    const entries = list.map((w, i) => weightEntry(w, `${what}, weight ${i}`, fail));
    const needed = entries.reduce((sum, e) => sum + elementCount(e.shape) * STORED_BYTES[e.stored], 0);
    totalBytes += needed;
    if (totalBytes > MAX_WEIGHT_BYTES) fail('the weights manifest describes more than 4 GiB of weights');
    const bytes = await readShards(modelJsonPath, paths, what, needed, fail);
    let offset = 0;
    for (const e of entries) {
      const size = elementCount(e.shape) * STORED_BYTES[e.stored];
      if (weights.has(e.name)) fail(`weight "${e.name}" is listed twice in the weights manifest`);
      weights.set(e.name, decode(e, bytes.subarray(offset, offset + size)));
      offset += size;
    }
  }
  return weights;
}

/**
 * The shard files a weightsManifest names (paths relative to the model.json's folder, each once):
 * what has to travel with the model when it is copied. Entries that are not strings are left
 * out; loading the model names them.
 */
export function tfjsShardPaths(manifest: unknown): string[] {
  if (!Array.isArray(manifest)) return [];
  const paths = manifest.flatMap((group) => (isObject(group) && Array.isArray(group.paths) ? group.paths : []));
  return [...new Set(paths.filter((p): p is string => typeof p === 'string' && p !== ''))];
}

function weightEntry(raw: unknown, what: string, fail: (m: string) => never): WeightEntry {
  if (!isObject(raw) || typeof raw.name !== 'string' || !raw.name) return fail(`${what} has no name`);
  const name = raw.name;
  const shape = raw.shape;
  if (!Array.isArray(shape) || shape.length > 16 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`weight "${name}" has an invalid shape ${JSON.stringify(shape)}`);
  }
  if (elementCount(shape as number[]) > MAX_TENSOR_ELEMENTS) fail(`weight "${name}" has huge dimensions [${(shape as number[]).join(', ')}]`);
  const dtype = raw.dtype;
  if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'bool') {
    return fail(`weight "${name}" has dtype ${JSON.stringify(dtype)}, which is not supported (float32, int32, bool are)`);
  }
  const q = raw.quantization;
  if (q === undefined) return { name, shape: shape as number[], dtype, stored: dtype, scale: 1, min: 0 };
  if (!isObject(q)) return fail(`weight "${name}" has an invalid quantization entry`);
  if (q.dtype === 'float16') {
    if (dtype !== 'float32') fail(`weight "${name}" is a ${dtype} stored as float16`);
    return { name, shape: shape as number[], dtype, stored: 'float16', scale: 1, min: 0 };
  }
  if (q.dtype !== 'uint8' && q.dtype !== 'uint16') return fail(`weight "${name}" has quantization dtype ${JSON.stringify(q.dtype)}, which is not supported (uint8, uint16, float16 are)`);
  if (!Number.isFinite(q.scale) || !Number.isFinite(q.min)) fail(`weight "${name}" is quantized without a finite scale and min`);
  return { name, shape: shape as number[], dtype, stored: q.dtype, scale: q.scale as number, min: q.min as number };
}

/** The group's shard files, concatenated, checked to hold exactly the bytes the manifest describes. */
async function readShards(modelJsonPath: string, paths: unknown[], what: string, needed: number, fail: (m: string) => never): Promise<Uint8Array> {
  const dir = path.dirname(modelJsonPath);
  const files = paths.map((p) => {
    if (typeof p !== 'string' || !p || path.isAbsolute(p) || p.split(/[\\/]/).includes('..')) {
      return fail(`${what} names an invalid shard path ${JSON.stringify(p)} (shards must lie beside the model.json)`);
    }
    return path.join(dir, p);
  });
  let have = 0;
  for (const f of files) {
    const info = await stat(f).catch(() => fail(`shard file ${path.basename(f)} of ${what} is missing (looked in ${dir})`));
    if (!info.isFile()) fail(`shard ${path.basename(f)} of ${what} is not a file`);
    have += info.size;
  }
  if (have !== needed) {
    fail(`the shards of ${what} (${paths.join(', ')}) hold ${have} bytes, but its weights need ${needed}${have < needed ? ' (a shard is truncated or missing)' : ''}`);
  }
  const bytes = new Uint8Array(needed);
  let offset = 0;
  for (const f of files) {
    const part = await readFile(f);
    bytes.set(part.subarray(0, needed - offset), offset);
    offset += part.length;
  }
  return bytes;
}

/** Dequantizes one weight's stored bytes (little-endian, as tfjs writes them). */
function decode(e: WeightEntry, bytes: Uint8Array): TfjsWeight {
  const n = elementCount(e.shape);
  if (e.stored === 'float32' || e.stored === 'int32') {
    // Copied byte for byte: the shard offsets need not be 4-aligned.
    const data = e.stored === 'float32' ? new Float32Array(n) : new Int32Array(n);
    new Uint8Array(data.buffer).set(bytes);
    return e.stored === 'float32' ? { shape: e.shape, dtype: 'float32', data: data as Float32Array } : { shape: e.shape, dtype: 'int32', data: data as Int32Array };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (e.stored === 'bool') values[i] = bytes[i] ? 1 : 0;
    else if (e.stored === 'uint8') values[i] = bytes[i] * e.scale + e.min;
    else if (e.stored === 'uint16') values[i] = view.getUint16(i * 2, true) * e.scale + e.min;
    else values[i] = halfToFloat(view.getUint16(i * 2, true));
  }
  if (e.dtype === 'float32') return { shape: e.shape, dtype: 'float32', data: Float32Array.from(values) };
  return { shape: e.shape, dtype: 'int32', data: Int32Array.from(values, Math.round) };
}
