// TensorFlow.js layers models: a model.json whose `modelTopology` is a Keras model config and
// whose `weightsManifest` lists binary shards beside it, read in order as one little-endian
// buffer per group. The Keras config becomes the graph through ./keras-layers.ts.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ModelFormatError } from '../errors';
import { MAX_TENSOR_ELEMENTS, elementCount, type GraphDescription } from '../graph/ir';
import { kerasToGraph, readKerasModel, type KerasArray } from './keras-layers';

/** More than any single-GPU vision model; a manifest asking for more is broken. */
const MAX_TOTAL_BYTES = 2 ** 32;

type Json = Record<string, unknown>;

interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: unknown;
}

/** Reads `file` (the model.json, already in `bytes`) and its shards from the same folder. */
export async function parseTfjsLayers(bytes: Uint8Array, file: string): Promise<GraphDescription> {
  const fail = (msg: string): never => {
    throw new ModelFormatError(`${file}: ${msg}`);
  };
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    return fail(`not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return fail('not a TensorFlow.js model.json (not a JSON object)');
  const json = doc as Json;
  if (json.format === 'graph-model') fail('this is a TensorFlow.js graph model; only layers models (from Keras) are read here');
  const topology = json.modelTopology;
  if (typeof topology !== 'object' || topology === null) return fail('it has no modelTopology (the model architecture)');
  if (!Array.isArray(json.weightsManifest)) return fail('it has no weightsManifest, so its weights are missing');
  const t = topology as Json;
  const model = readKerasModel(t.model_config ?? t, fail);

  const weights = new Map<string, Map<string, KerasArray>>();
  const folder = path.dirname(file);
  for (const [g, group] of (json.weightsManifest as unknown[]).entries()) {
    const { paths, entries } = readGroup(group, g, fail);
    const needed = entries.reduce((s, e) => s + 4 * elementCount(e.shape), 0);
    const data = await readShards(folder, paths, needed, fail);
    let offset = 0;
    for (const e of entries) {
      const count = elementCount(e.shape);
      // A copy, aligned and owned: the shard buffer is dropped after this group.
      const values = new Float32Array(count);
      new Uint8Array(values.buffer).set(data.subarray(offset, offset + 4 * count));
      offset += 4 * count;
      const slash = e.name.lastIndexOf('/');
      if (slash <= 0) fail(`weight "${e.name}" is not named <layer>/<weight>`);
      const layer = e.name.slice(0, slash).split('/').pop()!;
      const key = e.name.slice(slash + 1).replace(/:\d+$/, '');
      if (!weights.has(layer)) weights.set(layer, new Map());
      weights.get(layer)!.set(key, { shape: e.shape, data: values });
    }
  }
  const version = typeof t.keras_version === 'string' ? t.keras_version : 'unknown';
  return kerasToGraph(model, (layer) => weights.get(layer), file, { keras_version: version, producer: String(json.convertedBy ?? json.generatedBy ?? '') });
}

function readGroup(group: unknown, g: number, fail: (m: string) => never): { paths: string[]; entries: ManifestEntry[] } {
  const what = `weightsManifest group ${g}`;
  if (typeof group !== 'object' || group === null) return fail(`${what} is not an object`);
  const { paths, weights } = group as Json;
  if (!Array.isArray(paths) || paths.length === 0 || !paths.every((p) => typeof p === 'string')) return fail(`${what} lists no shard files`);
  for (const p of paths as string[]) {
    // Shards are files beside model.json; a path leaving the folder is not followed.
    if (path.isAbsolute(p) || p.split(/[\\/]/).includes('..')) fail(`${what}: shard path "${p}" leaves the model's folder`);
  }
  if (!Array.isArray(weights)) return fail(`${what} has no weight list`);
  let total = 0;
  const entries = weights.map((w: unknown, i): ManifestEntry => {
    const e = w as Partial<ManifestEntry>;
    if (typeof e !== 'object' || e === null || typeof e.name !== 'string' || !Array.isArray(e.shape)) return fail(`${what}: weight #${i} has no name or shape`);
    if (!e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`${what}: weight "${e.name}" has an invalid shape ${JSON.stringify(e.shape)}`);
    const count = elementCount(e.shape);
    if (count > MAX_TENSOR_ELEMENTS) fail(`${what}: weight "${e.name}" has huge dimensions [${e.shape.join(', ')}]`);
    if (e.dtype !== 'float32') fail(`${what}: weight "${e.name}" has dtype ${String(e.dtype)}; only float32 weights are supported`);
    if (e.quantization) fail(`${what}: weight "${e.name}" is quantized, which is not supported`);
    total += 4 * count;
    if (total > MAX_TOTAL_BYTES) fail(`${what} declares more than 4 GiB of weights`);
    return e as ManifestEntry;
  });
  return { paths: paths as string[], entries };
}

async function readShards(folder: string, paths: string[], needed: number, fail: (m: string) => never): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (const p of paths) {
    const shard = path.join(folder, p);
    parts.push(
      await readFile(shard).catch((err: NodeJS.ErrnoException) =>
        fail(`weight shard ${p} ${err.code === 'ENOENT' ? 'is missing' : `cannot be read (${err.message})`} (it should be beside the model.json)`),
      ),
    );
  }
  const total = parts.reduce((s, p) => s + p.length, 0);
  if (total !== needed) fail(`the weight shards ${paths.join(', ')} hold ${total} bytes but the manifest's weights need ${needed}`);
  if (parts.length === 1) return parts[0];
  const all = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}
