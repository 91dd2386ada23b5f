// Keras HDF5 files (Keras 2 `model.save` and `model.save_weights`), read with jsfive, a pure
// JavaScript HDF5 reader. A full model keeps its architecture in the `model_config` attribute
// and its weights under `model_weights`; a weights-only file (as the Keras applications publish
// their ImageNet weights) has no architecture, so it is matched, weighted layer by weighted layer,
// to one of the architectures shipped in resources/zoo/keras/. Either way the Keras config becomes
// the graph through ./keras-layers.ts.
import fs from 'node:fs';
import path from 'node:path';
import * as hdf5 from 'jsfive';
import { findResource } from '../../resources';
import { ModelFormatError } from '../errors';
import { CONVENTION_METADATA_KEY, MAX_TENSOR_ELEMENTS, elementCount, type GraphDescription } from '../graph/ir';
import { WEIGHTED_LAYERS, kerasToGraph, readKerasModel, type KerasArray, type KerasLayer, type KerasModel, type LayerWeights } from './keras-layers';

/** Where the architectures of the Keras applications are kept (see scripts/keras/make_zoo_configs.py). */
const ARCHITECTURES = 'resources/zoo/keras';
/** HDF5 "data layout" header message. */
const DATA_LAYOUT_MESSAGE = 0x0008;
const CONTIGUOUS_LAYOUT = 1;

type Fail = (msg: string) => never;

interface H5Layer {
  name: string;
  weights: Map<string, KerasArray>;
}

export function parseKerasH5(bytes: Uint8Array, source: string): GraphDescription {
  const fail: Fail = (msg) => {
    throw new ModelFormatError(`${source}: ${msg}`);
  };
  // jsfive throws strings and plain errors from deep inside on damaged files; all of them mean "unreadable".
  const guarded = <T>(what: string, fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof ModelFormatError) throw err;
      return fail(`${what} (${err instanceof Error ? err.message : String(err)})`);
    }
  };
  const buffer = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : bytes.slice().buffer;
  const file = guarded('not a readable HDF5 file', () => new hdf5.File(buffer, path.basename(source)));
  return guarded('the HDF5 file is damaged', () => {
    const rootAttrs = file.attrs;
    const config = rootAttrs.model_config;
    const weightsGroup = config !== undefined && file.keys.includes('model_weights') ? group(file.get('model_weights'), 'model_weights', fail) : file;
    const layers = readWeights(weightsGroup, bytes, fail);
    if (config !== undefined) {
      const model = readKerasModel(parseJson(config, 'the model_config attribute', fail), fail);
      const byName = new Map(layers.map((l) => [l.name, l.weights]));
      return kerasToGraph(model, (layer) => byName.get(layer), source, { keras_version: text(rootAttrs.keras_version) });
    }
    const found = matchArchitecture(layers, fail);
    const byName = new Map(found.pairs.map(([layer, h5]) => [layer.name, h5.weights]));
    const metadata: Record<string, string> = { keras_version: text(weightsGroup.attrs.keras_version), architecture: found.application };
    if (found.inputConvention) metadata[CONVENTION_METADATA_KEY] = JSON.stringify(found.inputConvention);
    return kerasToGraph(found.model, (layer) => byName.get(layer), source, metadata);
  });
}

function text(v: unknown): string {
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  return typeof v === 'string' ? v : v === undefined ? '' : String(v);
}

function parseJson(v: unknown, what: string, fail: Fail): unknown {
  try {
    return JSON.parse(text(v));
  } catch {
    return fail(`${what} is not JSON`);
  }
}

function group(g: hdf5.Group | hdf5.Dataset | null, what: string, fail: Fail): hdf5.Group {
  if (!(g instanceof hdf5.Group)) return fail(`${what} is not an HDF5 group`);
  return g;
}

function stringList(v: unknown, what: string, fail: Fail): string[] {
  const list = Array.isArray(v) ? v : typeof v === 'string' ? [v] : null;
  if (!list) return fail(`${what} is not a list of names`);
  return list.map((s) => text(s).replace(/\0+$/, ''));
}

/** Every layer listed in `layer_names`, with its arrays keyed by short name (kernel, bias, gamma...). */
function readWeights(g: hdf5.Group, bytes: Uint8Array, fail: Fail): H5Layer[] {
  if (g.attrs.layer_names === undefined) {
    // Keras 3's .weights.h5 keeps unnamed variables under layers/<name>/vars/<i>.
    if (g.keys.includes('layers') && g.keys.includes('vars')) fail("it is a Keras 3 weights file (.weights.h5), which is not supported; save the model with model.save('model.h5')");
    fail('it holds no Keras weights (no layer_names attribute); is it a Keras file?');
  }
  const names = stringList(g.attrs.layer_names, 'the layer_names attribute', fail);
  return names.map((name) => {
    if (!g.keys.includes(name)) fail(`layer_names lists "${name}" but the file has no group for it`);
    const lg = group(g.get(name), `the weights of layer ${name}`, fail);
    const weightNames = lg.attrs.weight_names === undefined ? [] : stringList(lg.attrs.weight_names, `weight_names of layer ${name}`, fail);
    const weights = new Map<string, KerasArray>();
    for (const w of weightNames) {
      const ds = lg.get(w);
      if (!(ds instanceof hdf5.Dataset)) fail(`weight ${w} of layer ${name} is missing`);
      weights.set(w.split('/').pop()!.replace(/:\d+$/, ''), readArray(ds as hdf5.Dataset, bytes, `weight ${w} of layer ${name}`, fail));
    }
    return { name, weights };
  });
}

/** A float dataset as float32. Contiguous little-endian float32 (what Keras writes) is copied straight from the file. */
function readArray(ds: hdf5.Dataset, bytes: Uint8Array, what: string, fail: Fail): KerasArray {
  const shape = ds.shape;
  const count = elementCount(shape);
  if (count > MAX_TENSOR_ELEMENTS) fail(`${what} has huge dimensions [${shape.join(', ')}]`);
  if (ds.dtype === '<f4') {
    const layout = ds._dataobjects.find_msg_type(DATA_LAYOUT_MESSAGE)[0];
    const [, , layoutClass, at] = ds._dataobjects._get_data_message_properties(layout.get('offset_to_message')!);
    if (layoutClass === CONTIGUOUS_LAYOUT) {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const start = Number(view.getBigUint64(at, true));
      if (start + 4 * count > bytes.length) fail(`${what} lies beyond the end of the file (is it truncated?)`);
      const data = new Float32Array(count);
      new Uint8Array(data.buffer).set(bytes.subarray(start, start + 4 * count));
      return { shape, data };
    }
  }
  if (typeof ds.dtype !== 'string' || !/^[<>]f[48]$/.test(ds.dtype)) fail(`${what} has data type ${JSON.stringify(ds.dtype)}; float weights are needed`);
  const values = ds.value;
  if (!Array.isArray(values) || values.length !== count) fail(`${what} holds ${Array.isArray(values) ? values.length : 'no'} values for shape [${shape.join(', ')}]`);
  return { shape, data: Float32Array.from(values as number[]) };
}

interface Architecture {
  application: string;
  model: KerasModel;
  inputConvention?: unknown;
}

interface Match extends Architecture {
  /** Each weighted layer of the architecture with the file's layer at the same position. */
  pairs: [KerasLayer, H5Layer][];
}

/**
 * The shipped architecture whose weighted layers line up with the file's (as Keras itself loads a
 * weights-only file: by position), each with the same number of arrays and the same output width.
 */
function matchArchitecture(layers: H5Layer[], fail: Fail): Match {
  const weighted = layers.filter((l) => l.weights.size > 0);
  if (weighted.length === 0) fail('it holds no weights');
  const known = architectures();
  for (const arch of known) {
    const archLayers = arch.model.layers.filter((l) => WEIGHTED_LAYERS.has(l.className));
    if (archLayers.length !== weighted.length) continue;
    const pairs = archLayers.map((l, i): [KerasLayer, H5Layer] => [l, weighted[i]]);
    if (pairs.every(([l, h5]) => fits(l, h5.weights))) return { ...arch, pairs };
  }
  return fail(
    `it holds only weights (${weighted.length} weighted layers, no model_config) and they match none of the known architectures (${known.map((a) => a.application).join(', ')}); save the whole model (model.save) instead`,
  );
}

function fits(layer: KerasLayer, weights: LayerWeights): boolean {
  const c = layer.config;
  const kernel = weights.get(layer.className === 'DepthwiseConv2D' && weights.has('depthwise_kernel') ? 'depthwise_kernel' : 'kernel');
  switch (layer.className) {
    case 'BatchNormalization':
      return weights.size === 2 + (c.center === false ? 0 : 1) + (c.scale === false ? 0 : 1);
    case 'Dense':
      return !!kernel && kernel.shape[1] === c.units && weights.size === (c.use_bias === false ? 1 : 2);
    default: {
      const size = c.kernel_size as number[];
      const out = layer.className === 'Conv2D' ? c.filters : kernel?.shape[3];
      return !!kernel && kernel.shape[0] === size[0] && kernel.shape[1] === size[1] && kernel.shape[3] === out && weights.size === (c.use_bias === false ? 1 : 2);
    }
  }
}

let cachedArchitectures: Architecture[] | null = null;

function architectures(): Architecture[] {
  if (cachedArchitectures) return cachedArchitectures;
  const dir = findResource(ARCHITECTURES);
  if (!dir) throw new Error(`the Keras architectures (${ARCHITECTURES}) are missing from this installation`);
  cachedArchitectures = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const doc = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { application: string; modelConfig: unknown; inputConvention?: unknown };
      const model = readKerasModel(doc.modelConfig, (msg) => {
        throw new Error(`${path.join(dir, f)}: ${msg}`);
      });
      return { application: doc.application, model, inputConvention: doc.inputConvention };
    });
  return cachedArchitectures;
}
