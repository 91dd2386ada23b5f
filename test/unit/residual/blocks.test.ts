// Residual blocks found in graphs: the built-in ResNet-18 (shapes, receptive fields, blocks, and a
// forward pass) and the shared ResNet-50, whose README names every block's In / Pre / Post tensors.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/engine/backend';
import type { NetworkModel } from '../../../src/main/engine/model';
import { loadModelFile } from '../../../src/main/engine/models/load';
import { createResNet18 } from '../../../src/main/engine/models/resnet18';
import { findResidualBlocks, roleLayer } from '../../../src/main/engine/residual/blocks';

const SHARED = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared');
const RESNET50 = path.join(SHARED, 'models/resnet50_keras_imagenet.onnx');

describe('ResNet-18 built in', () => {
  let model: NetworkModel;
  beforeAll(async () => {
    await initBackend();
    model = createResNet18({ seed: 3 });
  });
  afterAll(() => model.dispose());

  it('has the torchvision stage shapes and the published receptive fields', () => {
    const layer = (n: string) => model.layers.find((l) => l.name === n)!;
    // Stage outputs at 224 px: 56, 28, 14, 7 with 64..512 channels.
    expect(layer('/layer1/layer1.1/relu_1/Relu_output_0').shape).toEqual([56, 56, 64]);
    expect(layer('/layer2/layer2.1/relu_1/Relu_output_0').shape).toEqual([28, 28, 128]);
    expect(layer('/layer3/layer3.1/relu_1/Relu_output_0').shape).toEqual([14, 14, 256]);
    expect(layer('/layer4/layer4.1/relu_1/Relu_output_0').shape).toEqual([7, 7, 512]);
    expect(layer('logits').shape).toEqual([1000]);
    // Receptive fields by the recurrence r += (k - 1) j over conv1 7/2, pool 3/2, then 3x3 convs
    // (two per block, the first of stages 2-4 with stride 2): 43, 99, 211, 435 (the usual figures).
    expect(layer('/layer1/layer1.1/relu_1/Relu_output_0').rf).toMatchObject({ size: 43, jump: 4 });
    expect(layer('/layer2/layer2.1/relu_1/Relu_output_0').rf).toMatchObject({ size: 99, jump: 8 });
    expect(layer('/layer3/layer3.1/relu_1/Relu_output_0').rf).toMatchObject({ size: 211, jump: 16 });
    expect(layer('/layer4/layer4.1/relu_1/Relu_output_0').rf).toMatchObject({ size: 435, jump: 32 });
  });

  it('runs a batch to finite logits and exposes its 8 blocks', () => {
    const logits = tf.tidy(() => model.forward(tf.randomUniform([2, 64, 64, 3], 0, 255, 'float32', 1) as tf.Tensor4D, ['logits']).logits.arraySync() as number[][]);
    expect(logits).toHaveLength(2);
    expect(logits[0]).toHaveLength(1000);
    expect(logits.flat().every(Number.isFinite)).toBe(true);
    const blocks = findResidualBlocks(model);
    expect(blocks.map((b) => b.name)).toEqual(['layer1.0', 'layer1.1', 'layer2.0', 'layer2.1', 'layer3.0', 'layer3.1', 'layer4.0', 'layer4.1']);
    // No projection in layer1.0: its In is the max pool; layer2.0 takes the downsample branch.
    expect(blocks[0].inAfterRelu).toBe('/maxpool/MaxPool_output_0');
    expect(blocks[0].inBeforeRelu).toBeNull();
    expect(blocks[2].inAfterRelu).toBe('/layer2/layer2.0/downsample/downsample.1/BatchNormalization_output_0');
    expect(blocks[2].pre).toBe('/layer2/layer2.0/bn2/BatchNormalization_output_0');
    expect(blocks[3].inBeforeRelu).toBe('/layer2/layer2.0/Add_output_0');
  });
});

describe('ResNet-50 blocks against its README', () => {
  let model: NetworkModel;
  beforeAll(async () => {
    await initBackend();
    model = await loadModelFile(RESNET50);
  });
  afterAll(() => model.dispose());

  it('finds all 16 bottlenecks with the README tensor names', () => {
    const blocks = findResidualBlocks(model);
    const stages = [3, 4, 6, 3];
    expect(blocks.map((b) => b.name)).toEqual(stages.flatMap((n, s) => Array.from({ length: n }, (_, b) => `layer${s + 1}.${b}`)));
    for (const b of blocks) {
      const [, stage, index] = /^layer(\d)\.(\d+)$/.exec(b.name)!.map(Number);
      const scope = `/layer${stage}/layer${stage}.${index}`;
      expect(b.pre).toBe(`${scope}/bn3/BatchNormalization_output_0`);
      expect(b.postBeforeRelu).toBe(`${scope}/Add_output_0`);
      const last = index === stages[stage - 1] - 1;
      expect(b.postAfterRelu).toBe(last ? `layer${stage}` : `${scope}/relu_2/Relu_output_0`);
      if (index === 0) {
        expect(b.inAfterRelu).toBe(`${scope}/downsample/downsample.1/BatchNormalization_output_0`);
        expect(b.inBeforeRelu).toBeNull();
      } else {
        const prev = `/layer${stage}/layer${stage}.${index - 1}`;
        expect(b.inAfterRelu).toBe(`${prev}/relu_2/Relu_output_0`);
        expect(b.inBeforeRelu).toBe(`${prev}/Add_output_0`);
      }
      expect(b.channels).toBe(256 * 2 ** (stage - 1));
    }
    const b = blocks[1];
    expect(roleLayer(b, 'in', { in: 'before', post: 'after' })).toBe(b.inBeforeRelu);
    expect(roleLayer(b, 'post', { in: 'before', post: 'after' })).toBe(b.postAfterRelu);
  });
});
