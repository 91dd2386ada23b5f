// TensorFlow.js layers models: a model.json whose `modelTopology` is a Keras model config and
// whose `weightsManifest` lists binary shards beside it (read by ./tfjs-weights.ts, which
// dequantizes). The Keras config becomes the graph through ./keras-layers.ts.
import { ModelFormatError } from '../errors';
import type { GraphDescription } from '../graph/ir';
import { kerasToGraph, readKerasModel, type KerasArray } from './keras-layers';
import { isObject } from '../../../shared/json';
import { readTfjsWeights } from './tfjs-weights';

/** Reads a layers model: `json` is the parsed `file` (model.json); its shards lie beside it. */
export async function readTfjsLayersModel(json: Record<string, unknown>, file: string): Promise<GraphDescription> {
  const fail = (msg: string): never => {
    throw new ModelFormatError(`${file}: ${msg}`);
  };
  if (json.format === 'graph-model') fail('this is a TensorFlow.js graph model; only layers models (from Keras) are read here');
  const topology = json.modelTopology;
  if (!isObject(topology)) return fail('it has no modelTopology (the model architecture)');
  if (!Array.isArray(json.weightsManifest)) return fail('it has no weightsManifest, so its weights are missing');
  const model = readKerasModel(topology.model_config ?? topology, fail);

  // Manifest names are "<layer path>/<weight>:<n>"; Keras layers look their weights up by layer.
  const weights = new Map<string, Map<string, KerasArray>>();
  for (const [name, w] of await readTfjsWeights(file, json.weightsManifest)) {
    if (w.dtype !== 'float32') return fail(`weight "${name}" is ${w.dtype}; a Keras layer's weights are floats`);
    const slash = name.lastIndexOf('/');
    if (slash <= 0) fail(`weight "${name}" is not named <layer>/<weight>`);
    const layer = name.slice(0, slash).split('/').pop()!;
    const key = name.slice(slash + 1).replace(/:\d+$/, '');
    if (!weights.has(layer)) weights.set(layer, new Map());
    weights.get(layer)!.set(key, { shape: w.shape, data: w.data });
  }
  const version = typeof topology.keras_version === 'string' ? topology.keras_version : 'unknown';
  return kerasToGraph(model, (layer) => weights.get(layer), file, { keras_version: version, producer: String(json.convertedBy ?? json.generatedBy ?? '') });
}
