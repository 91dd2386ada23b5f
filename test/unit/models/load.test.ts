// Loading and inspecting model files: format by content, the input convention (stored, declared
// in the file's metadata, or the documented default flagged as guessed), and the layer list.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import onnxProto from 'onnx-proto';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/engine/backend';
import { DEFAULT_CONVENTION, inspectModelFile, loadModelFile } from '../../../src/main/engine/models/load';
import type { InputConvention } from '../../../src/shared/domain';
import { tempDir } from '../../helpers/temp';
import { buildModel, ints, randomArray, weights, type ModelSpec } from './onnx-builder';
import { RESNET_FILE, VGG_FILE, ortSession, relativeError, runOrt } from './reference';

const CONV: ModelSpec = {
  nodes: [{ op: 'Conv', inputs: ['x', 'w'], output: 'conv', attrs: { pads: ints([1, 1, 1, 1]) } }],
  inits: { w: weights([2, 3, 3, 3], 1) },
};

describe('loading and inspecting models', () => {
  const dir = tempDir();
  const write = (name: string, spec: ModelSpec) => {
    const f = path.join(dir, name);
    writeFileSync(f, buildModel(spec));
    return f;
  };
  const writeBytes = (name: string, bytes: Uint8Array) => {
    const f = path.join(dir, name);
    writeFileSync(f, bytes);
    return f;
  };
  beforeAll(async () => {
    await initBackend();
  });

  it('inspects VGG-19: ONNX, the default convention flagged as guessed, layers with shapes and RFs', async () => {
    const info = await inspectModelFile(VGG_FILE);
    expect(info.format).toBe('onnx');
    expect(info.name).toBe('vgg19_features_to_pool3_caffe_rgb');
    expect(info.conventionGuessed).toBe(true);
    // The README's convention: RGB, 0..255 minus [123.68, 116.779, 103.939], no std, 224 px.
    expect(info.inputConvention).toEqual({ channelOrder: 'RGB', scale: 255, mean: [123.68, 116.779, 103.939], std: [1, 1, 1], inputSize: 224 });
    expect(info.layers.map((l) => l.name).filter((n) => !n.startsWith('/'))).toEqual([
      'relu1_1', 'relu1_2', 'relu2_1', 'relu2_2', 'relu3_1', 'relu3_2', 'relu3_3', 'relu3_4', 'pool3',
    ]);
    expect(info.layers.find((l) => l.name === 'relu3_1')).toEqual({ name: 'relu3_1', op: 'Relu', shape: [56, 56, 256], rf: { size: 24, jump: 4, offset: 1.5 } });
    expect(info.layers.find((l) => l.name === '/features.0/Conv_output_0')?.op).toBe('Conv');
  });

  it('inspects ResNet-50: every node output is a layer; layers without spatial layout have no RF', async () => {
    const info = await inspectModelFile(RESNET_FILE);
    expect(info.layers).toHaveLength(175);
    expect(info.layers.find((l) => l.name === 'layer3')).toMatchObject({ shape: [14, 14, 1024], rf: { size: 291, jump: 16 } });
    expect(info.layers.find((l) => l.name === 'logits')).toEqual({ name: 'logits', op: 'Gemm', shape: [1000] });
    expect(info.layers.find((l) => l.name === '/layer2/layer2.0/downsample/downsample.1/BatchNormalization_output_0')).toBeDefined();
  });

  it('takes the convention the file declares and applies it (checked against onnxruntime)', async () => {
    const declared: InputConvention = { channelOrder: 'BGR', scale: 1, mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3], inputSize: 8 };
    const spec = { ...CONV, metadata: { 'artiphys.input_convention': JSON.stringify(declared) } };
    const file = write('declared.onnx', spec);
    const info = await inspectModelFile(file);
    expect([info.conventionGuessed, info.inputConvention]).toEqual([false, declared]);

    const model = await loadModelFile(file);
    const pixels = Float32Array.from(randomArray(2 * 8 * 8 * 3, 3, 127.5), (v) => v + 127.5);
    // The reference input, written out: BGR order, /255, minus mean, over std (in BGR order).
    const input = pixels.map((_, i) => {
      const c = i % 3;
      const v = pixels[i - c + (2 - c)] / 255;
      return (v - declared.mean[c]) / declared.std[c];
    });
    const ref = await runOrt(await ortSession(buildModel(spec)), input, [2, 8, 8, 3], ['conv']);
    const ours = tf.tidy(() => model.forward(tf.tensor4d(pixels, [2, 8, 8, 3]), ['conv']).conv);
    expect(relativeError({ data: ours.dataSync() as Float32Array, shape: ours.shape }, ref.conv)).toBeLessThan(1e-5);
    ours.dispose();
    model.dispose();
  });

  it('skips fields newer than the reader, as the decoder does (metadata_props as PyTorch\'s dynamo exporter writes them)', async () => {
    // Field 14 of a ValueInfo is unknown to the reader; one of length 130 takes a two-byte length.
    const model = onnxProto.onnx.ModelProto.decode(buildModel(CONV));
    const input = onnxProto.onnx.ValueInfoProto.encode(model.graph!.input![0]).finish();
    const unknown = Uint8Array.from([(14 << 3) | 2, 130, 1, ...new Uint8Array(130).fill(0x41)]);
    const graph = onnxProto.onnx.GraphProto.encode({ ...model.graph!, input: [] }).finish();
    const withInput = Uint8Array.from([...graph, (11 << 3) | 2, ...varint(input.length + unknown.length), ...input, ...unknown]);
    const top = onnxProto.onnx.ModelProto.encode({ ...model, graph: null }).finish();
    const bytes = Uint8Array.from([...top, (7 << 3) | 2, ...varint(withInput.length), ...withInput]);
    const info = await inspectModelFile(writeBytes('unknown-fields.onnx', bytes));
    expect(info.layers.map((l) => l.name)).toEqual(['conv']);
  });

  it('a stored convention overrides the file; a fixed input size in the graph becomes the usual size', async () => {
    const stored: InputConvention = { ...DEFAULT_CONVENTION, channelOrder: 'BGR', inputSize: 12 };
    const model = await loadModelFile(write('plain.onnx', CONV), { inputConvention: stored });
    expect(model.inputConvention).toEqual(stored);
    expect(model.layers[0].shape).toEqual([12, 12, 2]);
    model.dispose();
    const fixed = await inspectModelFile(write('fixed.onnx', { ...CONV, input: [1, 3, 32, 32] }));
    expect([fixed.conventionGuessed, fixed.inputConvention.inputSize, fixed.layers[0].shape]).toEqual([true, 32, [32, 32, 2]]);
  });

  it('a malformed declared convention is a clear error', async () => {
    const bad = { ...CONV, metadata: { 'artiphys.input_convention': '{"channelOrder":"XYZ"}' } };
    await expect(inspectModelFile(write('bad.onnx', bad))).rejects.toThrow(/artiphys.input_convention is not a valid input convention/);
  });

  it('forward refuses unknown layers and inputs too small for the layers asked for, naming them', async () => {
    const model = await loadModelFile(VGG_FILE);
    const tiny = tf.zeros([1, 3, 3, 3]) as tf.Tensor4D;
    expect(() => model.forward(tiny, ['relu9_9'])).toThrow(/has no layer "relu9_9"/);
    expect(() => model.forward(tiny, ['pool3'])).toThrow(/an input of 3x3 is too small/);
    // An early layer needs only its own nodes: 3 px is enough for relu1_1.
    const out = model.forward(tiny, ['relu1_1']);
    expect(out.relu1_1.shape).toEqual([1, 3, 3, 64]);
    tf.dispose([tiny, out.relu1_1]);
    model.dispose();
  });
});

/** A protobuf varint. */
function varint(n: number): number[] {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 0x80)) out.push((n % 0x80) | 0x80);
  return [...out, n];
}
