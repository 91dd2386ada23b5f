// Tensor memory: forward passes and input gradients leave the live tensor count unchanged, a
// disposed model frees everything it held, and a failed load leaves nothing behind.
import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/engine/backend';
import { loadModelFile } from '../../../src/main/engine/models/load';
import { tempDir } from '../../helpers/temp';
import { buildModel, float, int, ints, weights, type ModelSpec } from './onnx-builder';
import { VGG_FILE } from './reference';

/** A small network with the op kinds whose intermediates the executor frees or fuses. */
const SMALL: ModelSpec = {
  nodes: [
    { op: 'Conv', inputs: ['x', 'w1', 'b1'], output: 'conv1', attrs: { pads: ints([1, 1, 1, 1]) } },
    { op: 'BatchNormalization', inputs: ['conv1', 'g', 'b', 'm', 'v'], output: 'bn1', attrs: { epsilon: float(1e-5) } },
    { op: 'Relu', inputs: ['bn1'], output: 'relu1' },
    { op: 'MaxPool', inputs: ['relu1'], output: 'pool1', attrs: { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) } },
    { op: 'Conv', inputs: ['pool1', 'w2'], output: 'conv2', attrs: { group: int(2), pads: ints([1, 1, 1, 1]) } },
    { op: 'Add', inputs: ['conv2', 'pool1'], output: 'sum' },
    { op: 'AveragePool', inputs: ['sum'], output: 'avg', attrs: { kernel_shape: ints([2, 2]), strides: ints([2, 2]), pads: ints([0, 0, 1, 1]) } },
    { op: 'GlobalAveragePool', inputs: ['avg'], output: 'gap' },
    { op: 'Flatten', inputs: ['gap'], output: 'flat' },
    { op: 'Gemm', inputs: ['flat', 'fc'], output: 'logits', attrs: { transB: int(1) } },
  ],
  inits: {
    w1: weights([4, 3, 3, 3], 1), b1: weights([4], 2), g: weights([4], 3), b: weights([4], 4), m: weights([4], 5),
    v: { shape: [4], floats: [1, 2, 3, 4] }, w2: weights([4, 2, 3, 3], 6), fc: weights([3, 4], 7),
  },
};

describe('tensor memory', () => {
  const dir = tempDir();
  beforeAll(async () => {
    await initBackend();
  });

  it('1,000 forward and input-gradient steps leave the live tensor count unchanged', async () => {
    const before = tf.memory().numTensors;
    const file = path.join(dir, 'small.onnx');
    writeFileSync(file, buildModel(SMALL));
    const model = await loadModelFile(file);
    const loaded = tf.memory().numTensors;
    const start = tf.randomUniform([2, 16, 16, 3], 0, 255, 'float32', 1);
    const pixels = tf.variable(start) as tf.Variable<tf.Rank.R4>;
    start.dispose();
    const objective = (x: tf.Tensor4D) => {
      const out = model.forward(x, ['relu1', 'sum', 'logits']);
      return tf.add(tf.sum(tf.slice(out.sum, [0, 4, 4, 1], [-1, 1, 1, 1])), tf.mul(tf.sum(out.logits), 0.1)) as tf.Scalar;
    };
    const grad = tf.valueAndGrad(objective);
    const afterFirst = (() => {
      tf.tidy(() => grad(pixels).grad.dataSync());
      return tf.memory().numTensors;
    })();
    for (let step = 0; step < 1000; step++) {
      if (step % 2 === 0) {
        tf.tidy(() => {
          const { grad: g } = grad(pixels);
          pixels.assign(tf.add(pixels, tf.mul(tf.sign(g), 0.5)));
        });
      } else {
        const out = model.forward(pixels, ['logits', 'relu1']);
        tf.dispose(Object.values(out));
      }
    }
    expect(tf.memory().numTensors).toBe(afterFirst);
    pixels.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(loaded).toBeGreaterThan(before);
  });

  it('the real VGG-19 keeps a flat tensor count over gradient steps and frees all on dispose', async () => {
    const before = tf.memory().numTensors;
    const model = await loadModelFile(VGG_FILE);
    const pixels = tf.randomUniform([2, 26, 26, 3], 0, 255, 'float32', 2) as tf.Tensor4D;
    const unit = (x: tf.Tensor) => tf.sum(tf.slice(model.forward(x as tf.Tensor4D, ['relu3_1']).relu3_1, [0, 3, 3, 0], [-1, 1, 1, 1])) as tf.Scalar;
    const step = () => tf.tidy(() => tf.grad(unit)(pixels).dataSync());
    step();
    const steady = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) step();
    expect(tf.memory().numTensors).toBe(steady);
    pixels.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
