// TensorFlow.js graph models (model.json + weight shards) read into the graph IR: each built here
// as the tfjs converter writes it and checked against tfjs-converter's own loadGraphModel, which
// runs the TensorFlow graph natively in NHWC (an independent implementation of every op).
import { rmSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/engine/backend';
import type { NetworkModel } from '../../../src/main/engine/model';
import { inspectModelFile, loadModelFile } from '../../../src/main/engine/models/load';
import { forkEngine } from '../../../src/main/services/engine-process';
import { Workbench } from '../../../src/main/services/workbench';
import type { InputConvention, ModelDetail, ModelSummary } from '../../../src/shared/domain';
import { tempDir } from '../../helpers/temp';
import { randomArray } from './onnx-builder';
import { b, buildGraphModel, f, floats, int32s, listI, listS, relativeError, s, writeGraphModel, type GraphModelSpec } from './tfjs-graph-builder';

const same = { padding: s('SAME') };
/** Convolutions: the converter always writes dilations. */
const undilated = { dilations: listI([1, 1, 1, 1]) };
const stride2 = { strides: listI([1, 2, 2, 1]) };

/** A MobileNet-like graph touching every supported operator, with quantized and float16 weights. */
export const MOBILE: GraphModelSpec = {
  input: [-1, -1, -1, 3],
  consts: {
    w1: floats([3, 3, 3, 8], 1), b1: floats([8], 2),
    dw_w: floats([3, 3, 8, 1], 3), dw_b: floats([8], 4),
    dw2_w: floats([3, 3, 8, 2], 5),
    pw_w: floats([1, 1, 16, 8], 6, 0.5, 'uint8'), pw_b: floats([8], 7),
    gamma: floats([8], 8), beta: floats([8], 9), mean: floats([8], 10), variance: { shape: [8], data: [1, 2, 0.5, 3, 1.5, 0.7, 2.2, 1.1] },
    wd: floats([3, 3, 8, 8], 11, 0.3, 'float16'),
    concat_axis: int32s([-1], []),
    scale_c: floats([16], 12), shift: floats([], 13), divisor: { shape: [1, 1, 1, 16], data: Array.from({ length: 16 }, (_, i) => 1 + i / 8) },
    paddings: int32s([0, 0, 1, 2, 2, 1, 0, 0], [4, 2]), mirror_paddings: int32s([0, 0, 1, 1, 1, 1, 0, 0], [4, 2]),
    hw: int32s([1, 2]),
    fc_w: floats([16, 10], 14), fc_b: floats([10], 15),
    fc2_w: floats([16, 10], 16, 0.5, 'uint16'), flat_shape: int32s([-1, 16]), fc3_w: floats([10, 16], 17), out_b: floats([10], 18),
  },
  nodes: [
    { name: 'conv1', op: 'Conv2D', input: ['x', 'w1'], attr: { ...undilated, ...same, ...stride2, data_format: s('NHWC') } },
    { name: 'bias1', op: 'BiasAdd', input: ['conv1', 'b1'] },
    { name: 'relu6_1', op: 'Relu6', input: ['bias1'] },
    { name: 'dw', op: 'FusedDepthwiseConv2dNative', input: ['relu6_1', 'dw_w', 'dw_b'], attr: { ...undilated, ...same, strides: listI([1, 1, 1, 1]), fused_ops: listS(['BiasAdd', 'Relu6']), num_args: { i: '1' } } },
    { name: 'dw2', op: 'DepthwiseConv2dNative', input: ['dw', 'dw2_w'], attr: { ...undilated, ...same, ...stride2 } },
    { name: 'pw', op: '_FusedConv2D', input: ['dw2', 'pw_w', 'pw_b'], attr: { ...undilated, padding: s('VALID'), strides: listI([1, 1, 1, 1]), fused_ops: listS(['BiasAdd', 'Relu']), num_args: { i: '1' } } },
    { name: 'bn', op: 'FusedBatchNormV3', input: ['pw', 'gamma', 'beta', 'mean', 'variance'], attr: { epsilon: f(0.001), is_training: b(false) } },
    { name: 'dil', op: 'Conv2D', input: ['bn', 'wd'], attr: { padding: s('EXPLICIT'), explicit_paddings: listI([0, 0, 2, 2, 1, 3, 0, 0]), strides: listI([1, 1, 1, 1]), dilations: listI([1, 2, 2, 1]) } },
    { name: 'add', op: 'AddV2', input: ['dil', 'bn'] },
    { name: 'leaky', op: 'LeakyRelu', input: ['add'], attr: { alpha: f(0.1) } },
    { name: 'mp', op: 'MaxPool', input: ['leaky'], attr: { ...same, ...stride2, ksize: listI([1, 3, 3, 1]) } },
    { name: 'ap', op: 'AvgPool', input: ['leaky'], attr: { ...same, ...stride2, ksize: listI([1, 3, 3, 1]) } },
    { name: 'cat', op: 'ConcatV2', input: ['mp', 'ap', 'concat_axis'], attr: { N: { i: '2' } } },
    { name: 'mulc', op: 'Mul', input: ['cat', 'scale_c'] },
    { name: 'subc', op: 'Sub', input: ['mulc', 'shift'] },
    { name: 'divc', op: 'RealDiv', input: ['subc', 'divisor'] },
    { name: 'padded', op: 'Pad', input: ['divc', 'paddings'] },
    { name: 'mirror', op: 'MirrorPad', input: ['padded', 'mirror_paddings'], attr: { mode: s('REFLECT') } },
    { name: 'sig', op: 'Sigmoid', input: ['mirror'] },
    { name: 'tanh', op: 'Tanh', input: ['mirror'] },
    { name: 'gate', op: 'Mul', input: ['sig', 'tanh'] },
    { name: 'gap', op: 'Mean', input: ['gate', 'hw'], attr: { keep_dims: b(false) } },
    { name: 'fc', op: '_FusedMatMul', input: ['gap', 'fc_w', 'fc_b'], attr: { fused_ops: listS(['BiasAdd', 'Relu']), num_args: { i: '1' }, transpose_a: b(false), transpose_b: b(false) } },
    { name: 'gap2', op: 'Mean', input: ['gate', 'hw'], attr: { keep_dims: b(true) } },
    { name: 'sq', op: 'Squeeze', input: ['gap2'], attr: { squeeze_dims: listI([1, 2]) } },
    { name: 'fc2', op: 'MatMul', input: ['sq', 'fc2_w'] },
    { name: 'flat', op: 'Reshape', input: ['gap2', 'flat_shape'] },
    { name: 'fc3', op: 'MatMul', input: ['flat', 'fc3_w'], attr: { transpose_b: b(true) } },
    { name: 'sum', op: 'AddV2', input: ['fc', 'fc2'] },
    { name: 'sum3', op: 'AddN', input: ['sum', 'fc3', 'fc'] },
    { name: 'logits', op: 'BiasAdd', input: ['sum3', 'out_b'] },
    { name: 'probs', op: 'Softmax', input: ['logits'] },
    { name: 'Identity', op: 'Identity', input: ['probs'] },
  ],
};

/** Layers compared with the reference: one per TF node that is a layer here. */
const COMPARED = ['relu6_1', 'dw', 'dw2', 'pw', 'bn', 'dil', 'add', 'leaky', 'mp', 'ap', 'cat', 'divc', 'padded', 'mirror', 'gate', 'fc', 'fc2', 'fc3', 'sum3', 'logits', 'probs'];

/** Pixels go in unchanged: the tests feed the graph input directly. */
const RAW: InputConvention = { channelOrder: 'RGB', scale: 255, mean: [0, 0, 0], std: [1, 1, 1], inputSize: 16 };

async function referenceModel(spec: GraphModelSpec): Promise<tf.GraphModel> {
  const { json, shard, weights } = buildGraphModel(spec);
  return tf.loadGraphModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: weights as tf.io.WeightsManifestEntry[], weightData: shard.slice().buffer, format: 'graph-model' }));
}

/** Our output and the reference's for each layer, on seeded pixels of the given batch and size. */
function compare(model: NetworkModel, reference: tf.GraphModel, layers: string[], refLayers: string[], [n, h, w]: number[], seed: number): Record<string, number> {
  return tf.tidy(() => {
    const pixels = tf.tensor4d(randomArray(n * h * w * 3, seed), [n, h, w, 3]);
    const ours = model.forward(pixels, layers);
    const theirs = reference.execute(pixels, refLayers) as tf.Tensor[];
    return Object.fromEntries(layers.map((l, i) => [l, relativeError(ours[l], theirs[i])]));
  });
}

describe('TensorFlow.js graph models', () => {
  const dir = tempDir();
  beforeAll(async () => {
    await initBackend();
  });

  it('a MobileNet-like graph matches tfjs-converter on every layer, at even and odd sizes (asymmetric SAME pads)', async () => {
    const file = writeGraphModel(path.join(dir, 'mobile'), MOBILE);
    const model = await loadModelFile(file, { inputConvention: RAW });
    const reference = await referenceModel(MOBILE);
    try {
      expect(model.format).toBe('tfjs');
      expect(model.name).toBe('mobile');
      for (const [size, seed] of [[[1, 16, 16], 1], [[2, 15, 13], 2], [[1, 33, 33], 3]] as const) {
        const errors = compare(model, reference, COMPARED, COMPARED, [...size], seed);
        for (const [layer, err] of Object.entries(errors)) expect(err, `${layer} at ${size.join('x')}`).toBeLessThan(1e-5);
      }
      // The quantized weights, decoded here and by tfjs, are the same numbers.
      expect(model.layers.find((l) => l.name === 'pw')).toMatchObject({ op: 'Relu', shape: [4, 4, 8] });
    } finally {
      model.dispose();
      reference.dispose();
    }
  });

  it('input gradients through the graph match tfjs-converter differentiating the same graph', async () => {
    const model = await loadModelFile(writeGraphModel(path.join(dir, 'gradient'), MOBILE), { inputConvention: RAW });
    const reference = await referenceModel(MOBILE);
    try {
      // Up to the batch norm: tfjs cannot differentiate the dilated convolution after it. A random
      // projection makes every unit count.
      const err = tf.tidy(() => {
        const pixels = tf.tensor4d(randomArray(2 * 31 * 29 * 3, 6), [2, 31, 29, 3]);
        const projection = tf.tensor(randomArray(2 * 8 * 8 * 8, 7), [2, 8, 8, 8]);
        const ours = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(model.forward(x as tf.Tensor4D, ['bn']).bn, projection)))(pixels);
        const theirs = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(reference.execute(x, 'bn') as tf.Tensor, projection)))(pixels);
        expect(tf.max(tf.abs(theirs)).dataSync()[0]).toBeGreaterThan(0);
        return relativeError(ours, theirs);
      });
      expect(err).toBeLessThan(1e-5);
    } finally {
      model.dispose();
      reference.dispose();
    }
  });

  it('inspects: format tfjs, the NHWC input as NCHW, layers named after the TF nodes, convention guessed', async () => {
    const info = await inspectModelFile(writeGraphModel(path.join(dir, 'inspect'), { ...MOBILE, input: [1, 32, 32, 3] }));
    expect(info.format).toBe('tfjs');
    expect(info.conventionGuessed).toBe(true);
    expect(info.inputConvention.inputSize).toBe(32);
    const names = info.layers.map((l) => l.name);
    expect(names).toEqual(expect.arrayContaining(['conv1', 'bias1', 'relu6_1', 'dw', 'dw/conv', 'pw', 'bn', 'probs']));
    // conv1: 3x3 stride 2 SAME on 32 px → 16 px, RF 3.
    expect(info.layers.find((l) => l.name === 'conv1')).toMatchObject({ op: 'Conv', shape: [16, 16, 8], rf: { size: 3, jump: 2 } });
  });

  it('a convolution fused with its batch norm computes what the unfused pair does in tfjs-converter', async () => {
    const consts = { w: floats([3, 3, 3, 6], 21), g: floats([6], 22), o: floats([6], 23), m: floats([6], 24), v: { shape: [6], data: [0.5, 1, 1.5, 2, 2.5, 3] } };
    const bn = { epsilon: f(0.01) };
    const conv = { ...same, ...undilated, strides: listI([1, 1, 1, 1]) };
    const fusedSpec: GraphModelSpec = {
      input: [-1, -1, -1, 3],
      consts,
      nodes: [{ name: 'y', op: '_FusedConv2D', input: ['x', 'w', 'g', 'o', 'm', 'v'], attr: { ...conv, ...bn, fused_ops: listS(['FusedBatchNorm', 'Relu']), num_args: { i: '4' } } }],
    };
    const plainSpec: GraphModelSpec = {
      input: [-1, -1, -1, 3],
      consts,
      nodes: [
        { name: 'c', op: 'Conv2D', input: ['x', 'w'], attr: conv },
        { name: 'n', op: 'FusedBatchNorm', input: ['c', 'g', 'o', 'm', 'v'], attr: bn },
        { name: 'y', op: 'Relu', input: ['n'] },
      ],
    };
    const model = await loadModelFile(writeGraphModel(path.join(dir, 'fused-bn'), fusedSpec), { inputConvention: RAW });
    const reference = await referenceModel(plainSpec);
    try {
      const errors = compare(model, reference, ['y/bn', 'y'], ['n', 'y'], [1, 9, 9], 4);
      for (const [layer, err] of Object.entries(errors)) expect(err, layer).toBeLessThan(1e-5);
    } finally {
      model.dispose();
      reference.dispose();
    }
  });

  it('a flattened feature map (constant or batch-dependent target shape) feeds a dense layer as in TensorFlow (its weight rows reordered from HWC to CHW)', async () => {
    const spec: GraphModelSpec = {
      input: [-1, 5, 5, 3],
      consts: {
        w: floats([3, 3, 3, 6], 31), shape: int32s([-1, 150]), fc: floats([150, 7], 32), fct: floats([7, 150], 33),
        zero: int32s([0]), one: int32s([1]), features: int32s([150], []),
      },
      nodes: [
        { name: 'conv', op: 'Conv2D', input: ['x', 'w'], attr: { ...same, ...undilated, strides: listI([1, 1, 1, 1]) } },
        { name: 'flatten', op: 'Reshape', input: ['conv', 'shape'] },
        { name: 'dense', op: 'MatMul', input: ['flatten', 'fc'] },
        // Keras 3's Flatten with a dynamic batch: reshape to [shape(x)[0], H*W*C].
        { name: 'flatten_dyn/Shape', op: 'Shape', input: ['conv'], attr: { out_type: { type: 'DT_INT32' } } },
        { name: 'flatten_dyn/batch', op: 'StridedSlice', input: ['flatten_dyn/Shape', 'zero', 'one', 'one'], attr: { shrink_axis_mask: { i: '1' }, begin_mask: { i: '0' }, end_mask: { i: '0' }, ellipsis_mask: { i: '0' }, new_axis_mask: { i: '0' } } },
        { name: 'flatten_dyn/shape', op: 'Pack', input: ['flatten_dyn/batch', 'features'], attr: { N: { i: '2' }, axis: { i: '0' } } },
        { name: 'flatten_dyn', op: 'Reshape', input: ['conv', 'flatten_dyn/shape'] },
        { name: 'dense_t', op: 'MatMul', input: ['flatten_dyn', 'fct'], attr: { transpose_b: b(true) } },
      ],
      outputs: ['dense', 'dense_t'],
    };
    const model = await loadModelFile(writeGraphModel(path.join(dir, 'flatten'), spec), { inputConvention: { ...RAW, inputSize: 5 } });
    const reference = await referenceModel(spec);
    try {
      const errors = compare(model, reference, ['dense', 'dense_t'], ['dense', 'dense_t'], [2, 5, 5], 5);
      for (const [layer, err] of Object.entries(errors)) expect(err, layer).toBeLessThan(1e-5);
    } finally {
      model.dispose();
      reference.dispose();
    }
  });

  it('a flattened feature map read by anything but a MatMul, or split into pixel rows, is refused naming the node', async () => {
    const base: GraphModelSpec = {
      input: [1, 8, 8, 3],
      consts: { shape: int32s([1, -1]), rows: int32s([-1, 3]) },
      nodes: [
        { name: 'flatten', op: 'Reshape', input: ['x', 'shape'] },
        { name: 'act', op: 'Relu', input: ['flatten'] },
      ],
    };
    await expect(loadModelFile(writeGraphModel(path.join(dir, 'flatten-relu'), base))).rejects.toThrow(/node act \(Relu\): input 0 is a flattened feature map, which only a MatMul may read/);
    const rows = { ...base, nodes: [{ name: 'pixels', op: 'Reshape', input: ['x', 'rows'] }] };
    await expect(loadModelFile(writeGraphModel(path.join(dir, 'pixel-rows'), rows))).rejects.toThrow(/node pixels \(Reshape\): cannot reshape \[1, 3, 8, 8\] to \[0, 3\]/);
  });

  it('"models import" takes a model.json (its shards read beside it); a missing shard is a bad_model error naming both', async () => {
    const wb = Workbench.open({ launcher: forkEngine, projectPath: path.join(dir, 'import.artiphys'), create: true, backend: 'cpu' });
    const call = <T>(method: string, params: unknown) => wb.call({ method, params }) as Promise<T>;
    try {
      const file = writeGraphModel(path.join(dir, 'imported'), { ...MOBILE, input: [-1, 64, 64, 3] });
      const imported = await call<ModelSummary>('models.import', { path: file });
      expect(imported).toMatchObject({ format: 'tfjs', name: 'imported', source: file, conventionGuessed: true, inputConvention: { inputSize: 64 } });
      const detail = await call<ModelDetail>('models.get', { modelId: imported.id });
      expect(detail.layers.find((l) => l.name === 'probs')).toEqual({ name: 'probs', op: 'Softmax', shape: [10] });
      const broken = writeGraphModel(path.join(dir, 'no-shard'), MOBILE);
      rmSync(path.join(dir, 'no-shard', 'group1-shard1of1.bin'));
      await expect(call('models.import', { path: broken })).rejects.toThrow(/model\.json: shard file group1-shard1of1\.bin of weight group 0 is missing/);
    } finally {
      wb.close();
    }
  }, 120_000);
});
