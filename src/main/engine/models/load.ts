// Loads a network from a file, recognizing the format by the file's content, and fills in its
// input convention: the one the caller stored, else what the file declares, else a documented
// default that is reported as guessed so the UI can ask the user to check it.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { inputConventionSchema } from '../../../shared/api/contract';
import type { InputConvention, ModelFormat } from '../../../shared/domain';
import { ModelFormatError } from '../errors';
import { parseKerasH5 } from '../formats/keras-h5';
import { parseOnnx } from '../formats/onnx';
import { looksLikeSafetensors, parseSafetensors } from '../formats/safetensors';
import { readTfjsGraphModel } from '../formats/tfjs-graph';
import { readTfjsLayersModel } from '../formats/tfjs-layers';
import { isObject } from '../../../shared/json';
import { GraphModel, describeLayers, graphNodesOf } from '../graph/executor';
import { CONVENTION_METADATA_KEY, type GraphDescription } from '../graph/ir';
import { planGraph, type Plan } from '../graph/plan';
import type { NetworkModel } from '../model';
import type { InspectedModel } from '../protocol';
import { residualBlocksOf } from '../residual/blocks';
import { resnet18FromStateDict, TORCHVISION_CONVENTION } from './resnet18';

/**
 * Used when a file does not say how it wants its input: the classic Caffe / Keras ImageNet
 * convention in RGB order (pixels 0..255 minus the ImageNet mean, no scaling), 224 px.
 */
export const DEFAULT_CONVENTION: InputConvention = {
  channelOrder: 'RGB',
  scale: 255,
  mean: [123.68, 116.779, 103.939],
  std: [1, 1, 1],
  inputSize: 224,
};

export { CONVENTION_METADATA_KEY } from '../graph/ir';

/** Files above this size cannot be self-contained ONNX (protobuf's 2 GiB limit) nor one Node buffer. */
const MAX_FILE_BYTES = 2 ** 31 - 1;

export interface LoadOptions {
  /** The convention stored with the model (overrides what the file says). */
  inputConvention?: InputConvention;
}

interface ReadModel {
  format: ModelFormat;
  plan: Plan;
  inputConvention: InputConvention;
  conventionGuessed: boolean;
}

export async function loadModelFile(file: string, opts: LoadOptions = {}): Promise<NetworkModel> {
  const m = await readModel(file, opts);
  return new GraphModel(m.plan, { name: modelName(file), format: m.format, inputConvention: m.inputConvention });
}

/** Format, convention, layers (shapes and RFs at the usual input size) and residual blocks, without loading tensors. */
export async function inspectModelFile(file: string): Promise<InspectedModel> {
  const m = await readModel(file, {});
  const { layers } = describeLayers(m.plan, m.inputConvention.inputSize);
  const blocks = residualBlocksOf(graphNodesOf(m.plan, layers), layers);
  return { format: m.format, name: modelName(file), inputConvention: m.inputConvention, conventionGuessed: m.conventionGuessed, layers, blocks };
}

function modelName(file: string): string {
  // TensorFlow.js models are all called model.json: their folder names them.
  if (path.basename(file) === 'model.json') return path.basename(path.dirname(path.resolve(file)));
  return path.basename(file).replace(/\.[^.]+$/, '');
}

async function readModel(file: string, opts: LoadOptions): Promise<ReadModel> {
  const info = await stat(file).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`cannot read model file ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  });
  if (!info.isFile()) throw new ModelFormatError(`${file} is not a file`);
  if (info.size === 0) throw new ModelFormatError(`${file} is empty`);
  if (info.size > MAX_FILE_BYTES) throw new ModelFormatError(`${file} is larger than 2 GiB, which a single model file cannot be`);
  // A view of the Buffer read, not a copy of it: the file is held in memory once.
  const buffer = await readFile(file);
  const bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const kind = sniff(bytes);
  switch (kind) {
    case 'safetensors': {
      // A state dict: the weights of a built-in architecture, whose input convention is known.
      const { tensors, skipped } = parseSafetensors(bytes, file);
      const plan = planGraph(resnet18FromStateDict(tensors, file, skipped));
      return { format: 'safetensors', plan, inputConvention: opts.inputConvention ?? TORCHVISION_CONVENTION, conventionGuessed: false };
    }
    case 'onnx':
    case 'keras-h5':
    case 'tfjs': {
      const desc = await graphOf(kind, bytes, file);
      return { format: kind, plan: planGraph(desc), ...convention(desc, opts) };
    }
    default:
      throw new ModelFormatError(`${file} is not a model file the engine can read: ${kind}. Supported: ONNX (.onnx), Keras HDF5 (.h5), TensorFlow.js layers and graph models (model.json), a torchvision ResNet-18 state dict (.safetensors)`);
  }
}

function graphOf(kind: 'onnx' | 'keras-h5' | 'tfjs', bytes: Uint8Array, file: string): GraphDescription | Promise<GraphDescription> {
  if (kind === 'onnx') return parseOnnx(bytes, file, { externalDataDir: path.dirname(file) });
  if (kind === 'keras-h5') return parseKerasH5(bytes, file);
  // A model.json is a graph model (a TensorFlow GraphDef) or a layers model (a Keras config).
  const json = parseJson(bytes, file);
  const isGraphModel = json.format === 'graph-model' || (isObject(json.modelTopology) && Array.isArray(json.modelTopology.node));
  return isGraphModel ? readTfjsGraphModel(json, file) : readTfjsLayersModel(json, file);
}

function parseJson(bytes: Uint8Array, file: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new ModelFormatError(`${file}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!isObject(json)) throw new ModelFormatError(`${file}: the JSON is not an object, so not a TensorFlow.js model`);
  return json;
}

/** The format by content; for files that are no model at all, a short description of what they are. */
function sniff(bytes: Uint8Array): ModelFormat | string {
  const starts = (...sig: number[]) => sig.every((b, i) => bytes[i] === b);
  if (starts(0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a)) return 'keras-h5';
  // Before ONNX: a header length whose low byte is 8 would pass for ONNX's first field.
  if (looksLikeSafetensors(bytes)) return 'safetensors';
  if (starts(0xff, 0xd8, 0xff)) return 'it is a JPEG image';
  if (starts(0x89, 0x50, 0x4e, 0x47)) return 'it is a PNG image';
  if (starts(0x50, 0x4b, 0x03, 0x04)) return 'it is a ZIP archive (a PyTorch checkpoint? export it to ONNX, or save a ResNet-18 state dict as .safetensors)';
  const head = new TextDecoder().decode(bytes.subarray(0, 4096)).trimStart();
  if (head.startsWith('{')) {
    return /"(modelTopology|weightsManifest)"/.test(head) ? 'tfjs' : 'it is a JSON file without a TensorFlow.js model';
  }
  // An ONNX ModelProto starts with field 1 (ir_version, varint) as every exporter writes it.
  if (bytes[0] === 0x08) return 'onnx';
  return 'its content is not ONNX, safetensors, Keras HDF5 or TensorFlow.js';
}

function convention(desc: GraphDescription, opts: LoadOptions): { inputConvention: InputConvention; conventionGuessed: boolean } {
  if (opts.inputConvention) return { inputConvention: opts.inputConvention, conventionGuessed: false };
  const declared = desc.metadata[CONVENTION_METADATA_KEY];
  if (declared !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(declared);
    } catch {
      throw new ModelFormatError(`${desc.source}: metadata ${CONVENTION_METADATA_KEY} is not JSON`);
    }
    const result = inputConventionSchema.safeParse(parsed);
    if (!result.success) {
      throw new ModelFormatError(`${desc.source}: metadata ${CONVENTION_METADATA_KEY} is not a valid input convention (${result.error.issues[0]?.message})`);
    }
    return { inputConvention: result.data, conventionGuessed: false };
  }
  // A fixed square input size in the graph is a fact worth keeping even when the rest is guessed.
  const [, , h, w] = desc.inputs[0]?.shape ?? [];
  const inputSize = h && h === w ? h : DEFAULT_CONVENTION.inputSize;
  return { inputConvention: { ...DEFAULT_CONVENTION, inputSize }, conventionGuessed: true };
}
