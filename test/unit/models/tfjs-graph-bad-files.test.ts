// Broken or unsupported TensorFlow.js graph models end in one ModelFormatError naming model.json
// and the problem (bad JSON, unknown op with its node, missing or short shard, wrong dtype), never
// in a crash or leaked tensors; a fuzz run loads 500 mutated small graph models.
import { mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/engine/backend';
import { ModelFormatError } from '../../../src/main/engine/errors';
import { loadModelFile } from '../../../src/main/engine/models/load';
import { fuzzedLoad, loadError } from './load-error';
import { tempDir } from '../../helpers/temp';
import { buildGraphModel, floats, int32s, listI, listS, s, type GraphModelSpec } from './tfjs-graph-builder';

/** A small valid graph model: conv, fused conv, pooling, global mean, dense. */
const SMALL: GraphModelSpec = {
  input: [1, 8, 8, 3],
  consts: { w: floats([3, 3, 3, 4], 1), w2: floats([1, 1, 4, 4], 2, 0.5, 'uint8'), b2: floats([4], 3), hw: int32s([1, 2]), fc: floats([4, 5], 4, 0.5, 'float16') },
  nodes: [
    { name: 'conv', op: 'Conv2D', input: ['x', 'w'], attr: { padding: s('SAME'), strides: listI([1, 1, 1, 1]), dilations: listI([1, 1, 1, 1]) } },
    { name: 'relu', op: 'Relu', input: ['conv'] },
    { name: 'pool', op: 'MaxPool', input: ['relu'], attr: { padding: s('VALID'), strides: listI([1, 2, 2, 1]), ksize: listI([1, 2, 2, 1]) } },
    { name: 'conv2', op: '_FusedConv2D', input: ['pool', 'w2', 'b2'], attr: { padding: s('VALID'), strides: listI([1, 1, 1, 1]), fused_ops: listS(['BiasAdd', 'Relu6']), num_args: { i: '1' } } },
    { name: 'gap', op: 'Mean', input: ['conv2', 'hw'] },
    { name: 'logits', op: 'MatMul', input: ['gap', 'fc'] },
  ],
};

const dir = tempDir();
let count = 0;

/** Writes a model folder (model.json and shard, either replaced) and returns the model.json path. */
function writeModel(json: unknown, shard: Uint8Array, jsonText?: string): string {
  const folder = path.join(dir, `model-${count++}`);
  mkdirSync(folder);
  writeFileSync(path.join(folder, 'group1-shard1of1.bin'), shard);
  const file = path.join(folder, 'model.json');
  writeFileSync(file, jsonText ?? JSON.stringify(json));
  return file;
}

/** Loads SMALL with `change` applied to a copy of its model.json object; expects a ModelFormatError naming the file. */
async function expectError(change: (json: ReturnType<typeof buildGraphModel>['json']) => void, message: RegExp): Promise<string> {
  const { json, shard } = buildGraphModel(SMALL);
  const copy = structuredClone(json);
  change(copy);
  const file = writeModel(copy, shard);
  const err = await loadError(file);
  expect(err).toBeInstanceOf(ModelFormatError);
  expect(err.message).toMatch(message);
  expect(err.message.startsWith(file)).toBe(true);
  return file;
}

describe('bad TensorFlow.js graph models', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('the small model itself loads and runs', async () => {
    const { json, shard } = buildGraphModel(SMALL);
    const model = await loadModelFile(writeModel(json, shard));
    expect(model.layers.map((l) => l.name)).toEqual(['conv', 'relu', 'pool', 'conv2/conv', 'conv2', 'gap/pool', 'gap', 'logits']);
    model.dispose();
  });

  it('bad JSON, a JSON without a model, a layers model', async () => {
    const { json, shard } = buildGraphModel(SMALL);
    const text = JSON.stringify(json);
    const truncated = writeModel(null, shard, text.slice(0, text.length >> 1));
    expect((await loadError(truncated)).message).toMatch(/model\.json: not valid JSON/);
    expect((await loadError(writeModel(null, shard, '{"a": 1}'))).message).toMatch(/JSON file without a TensorFlow\.js model/);
    await expectError((j) => Object.assign(j, { modelTopology: { node: 'nodes' } }), /modelTopology has no "node" list/);
    await expectError((j) => (j.modelTopology.node = []), /the graph has no nodes/);
  });

  it('an unknown operator names its node; unsupported attributes and inputs name theirs', async () => {
    await expectError((j) => (j.modelTopology.node[j.modelTopology.node.length - 1].op = 'Erf'), /node logits \(Erf\): TensorFlow operator "Erf" is not supported \(supported: .*Conv2D/);
    await expectError((j) => Object.assign(j.modelTopology.node.find((n) => n.name === 'conv')!.attr!, { data_format: s('NCHW') }), /node conv \(Conv2D\): only the NHWC data format/);
    await expectError((j) => Object.assign(j.modelTopology.node.find((n) => n.name === 'conv')!.attr!, { padding: s('FULL') }), /node conv \(Conv2D\): padding "FULL"/);
    await expectError((j) => Object.assign(j.modelTopology.node.find((n) => n.name === 'conv2')!.attr!, { fused_ops: listS(['BiasAdd', 'Elu']) }), /node conv2 \(_FusedConv2D\): fused operations \[BiasAdd, Elu\] are not supported/);
    await expectError((j) => (j.modelTopology.node.find((n) => n.name === 'relu')!.input = ['nowhere']), /node relu \(Relu\) reads "nowhere", which no node produces/);
    await expectError((j) => (j.modelTopology.node.find((n) => n.name === 'conv')!.input = ['x', 'relu']), /cycle through node/);
    await expectError((j) => (j.modelTopology.node.find((n) => n.name === 'gap')!.input = ['conv2', 'w2']), /node gap \(Mean\): the axes must hold integers/);
  });

  it('missing, short and long shards, bad paths, unsupported dtypes', async () => {
    const { json, shard } = buildGraphModel(SMALL);
    const missing = writeModel(json, shard);
    rmSync(path.join(path.dirname(missing), 'group1-shard1of1.bin'));
    expect((await loadError(missing)).message).toMatch(/model\.json: shard file group1-shard1of1\.bin of weight group 0 is missing/);
    const short = writeModel(json, shard);
    truncateSync(path.join(path.dirname(short), 'group1-shard1of1.bin'), shard.length - 3);
    expect((await loadError(short)).message).toMatch(new RegExp(`hold ${shard.length - 3} bytes, but its weights need ${shard.length} \\(a shard is truncated or missing\\)`));
    expect((await loadError(writeModel(json, Uint8Array.from([...shard, 0])))).message).toMatch(/hold \d+ bytes, but its weights need/);
    await expectError((j) => (j.weightsManifest[0].paths = ['../../etc/passwd']), /invalid shard path "..\/..\/etc\/passwd"/);
    await expectError((j) => (j.weightsManifest[0].weights[0].dtype = 'string'), /weight "w" has dtype "string", which is not supported/);
    await expectError((j) => (j.weightsManifest[0].weights[0].dtype = 'complex64'), /weight "w" has dtype "complex64"/);
    await expectError((j) => Object.assign(j.weightsManifest[0].weights[1], { quantization: { dtype: 'int4', scale: 1, min: 0 } }), /quantization dtype "int4"/);
    await expectError((j) => (j.weightsManifest[0].weights[0].shape = [3, -3, 3, 4]), /weight "w" has an invalid shape/);
    await expectError((j) => (j.weightsManifest[0].weights[0].shape = [65536, 65536, 3, 4]), /weight "w" has huge dimensions/);
    await expectError((j) => (j.weightsManifest[0].weights = j.weightsManifest[0].weights.slice(1)), /node w|shards .* hold/);
    await expectError((j) => (j.weightsManifest[0].weights[0].dtype = 'int32'), /node conv \(Conv2D\): the filter must hold floats/);
  });
});

function mutateText(text: string, rand: () => number): string {
  const pick = (n: number) => Math.floor(rand() * n);
  const at = pick(text.length);
  switch (pick(3)) {
    case 0:
      return text.slice(0, at) + String.fromCharCode(32 + pick(95)) + text.slice(at + 1);
    case 1:
      return text.slice(0, at) + text.slice(at + 1 + pick(8));
    default:
      return text.slice(0, at) + text.slice(at, at + 1 + pick(16)) + text.slice(at);
  }
}

/** Replaces one value somewhere in the JSON tree with a value of another kind. */
function mutateJson(json: unknown, rand: () => number): unknown {
  const pick = (n: number) => Math.floor(rand() * n);
  const copy = structuredClone(json) as Record<string, unknown>;
  const junk = [null, -1, 0, 1e9, 2.5, '', 'Conv2D', 'SAME', [], {}, [1, 2], true, '-1', 'AAAA'];
  let node: unknown = copy;
  for (let depth = 0; depth < 8; depth++) {
    const container = node as Record<string, unknown>;
    const keys = Object.keys(container);
    if (keys.length === 0) break;
    const key = keys[pick(keys.length)];
    const child = container[key];
    if (typeof child !== 'object' || child === null || rand() < 0.2) {
      container[key] = junk[pick(junk.length)];
      break;
    }
    node = child;
  }
  return copy;
}

describe('fuzzing with mutated small TensorFlow.js graph models', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('500 mutated model.json files: each loads or gives a ModelFormatError, leaking no tensors', async () => {
    const { json, shard } = buildGraphModel(SMALL);
    const text = JSON.stringify(json);
    let state = 4242;
    const rand = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const before = tf.memory().numTensors;
    const outcomes = { loaded: 0, rejected: 0 };
    for (let i = 0; i < 500; i++) {
      const file = i % 2 === 0 ? writeModel(null, shard, mutateText(text, rand)) : writeModel(mutateJson(json, rand), shard);
      outcomes[await fuzzedLoad(file, () => `mutation ${i} (${file}): ${readFileSync(file, 'utf8').slice(0, 200)}`)]++;
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(outcomes.loaded).toBeGreaterThan(0);
    expect(outcomes.rejected).toBeGreaterThan(0);
  });
});
