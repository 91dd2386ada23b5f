// Gradient-free forward passes of a large batch run in chunks (beyond a size, convolutions cost more
// per image as the batch grows): the result must be the batch's, image for image; under a gradient
// tape each image still gets its own gradient.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/main/engine/backend';
import type { NetworkModel } from '../../../src/main/engine/model';
import type { GraphModel } from '../../../src/main/engine/graph/executor';
import { loadModelFile } from '../../../src/main/engine/models/load';

const VGG = path.resolve(__dirname, '../../../../shared/models/vgg19_features_to_pool3_caffe_rgb.onnx');

describe('chunked forward passes', () => {
  let model: NetworkModel;
  beforeAll(async () => {
    await initBackend();
    model = await loadModelFile(VGG);
  });
  afterAll(() => model.dispose());

  it('a batch of three chunks equals each image run alone, in order (first and last of every chunk)', async () => {
    const layers = ['relu1_2', '/features.2/Conv_output_0'];
    // Small images make many per chunk.
    const side = 48;
    const chunk = (model as GraphModel).forwardChunk(side, side);
    expect(chunk).toBeGreaterThan(1);
    const n = 2 * chunk + 3;
    // The batch runs in three chunks of equal size (the last one shorter).
    const third = Math.ceil(n / 3);
    const edges = [0, 1, 2].flatMap((k) => [k * third, Math.min(n, (k + 1) * third) - 1]);
    // The model compiles (and keeps) fused kernels for each set of layers on first use.
    for (const set of [layers, ...layers.map((l) => [l])]) tf.tidy(() => void model.forward(tf.zeros([1, side, side, 3]), set));
    const before = tf.memory().numTensors;
    const pixels = tf.randomUniform([n, side, side, 3], 0, 255, 'float32', 9) as tf.Tensor4D;
    const batch = model.forward(pixels, layers);
    for (const layer of layers) {
      expect(batch[layer].shape).toEqual([n, side, side, 64]);
      const whole = (await batch[layer].data()) as Float32Array;
      const size = whole.length / n;
      for (const i of edges) {
        const one = tf.tidy(() => model.forward(tf.slice(pixels, [i, 0, 0, 0], [1, side, side, 3]), [layer])[layer]);
        const alone = (await one.data()) as Float32Array;
        one.dispose();
        let worst = 0;
        for (let k = 0; k < size; k++) worst = Math.max(worst, Math.abs(whole[i * size + k] - alone[k]) / (1 + Math.abs(alone[k])));
        expect(worst, `${layer}, image ${i}`).toBeLessThan(1e-5);
      }
    }
    tf.dispose([pixels, ...Object.values(batch)]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('under a gradient tape a batch larger than a chunk gets each image its own, exact gradient', async () => {
    const pixels = tf.randomUniform([5, 224, 224, 3], 0, 255, 'float32', 10) as tf.Tensor4D;
    const first = model.layers[0].name; // the first conv's output, before its ReLU
    const objective = (x: tf.Tensor) => tf.sum(tf.slice(model.forward(x as tf.Tensor4D, [first])[first], [0, 112, 112, 0], [-1, 1, 1, 1]));
    const grad = tf.grad(objective)(pixels);
    const [perImage, outside] = tf.tidy(() => [tf.sum(tf.abs(grad), [1, 2, 3]), tf.sum(tf.abs(tf.slice(grad, [0, 0, 0, 0], [5, 100, 224, 3])))]);
    // The unit sees a 3 x 3 patch: each image's gradient is the kernel's, the same non-zero
    // amount for every image, and nothing outside the patch.
    const g = await perImage.data();
    g.forEach((v: number) => expect(v).toBeCloseTo(g[0], 3));
    expect(g[0]).toBeGreaterThan(0);
    expect((await outside.data())[0]).toBe(0);
    tf.dispose([pixels, grad, perImage, outside]);
  });

  it('a chunk keeps the largest layer within the 32 MiB glibc reuses, at any image size', () => {
    const graph = model as GraphModel;
    const limit = 32 * 2 ** 20;
    // VGG-19's first maps: 64 channels at full resolution, 4 bytes a value.
    for (const side of [224, 112, 448]) {
      const bytes = side * side * 64 * 4;
      const chunk = graph.forwardChunk(side, side);
      expect(chunk, `${side} px`).toBe(Math.max(1, Math.min(Math.floor(limit / bytes), eigenLimit(side))));
    }
    // A layer larger than the limit on its own still runs, one image at a time.
    expect(graph.forwardChunk(1024, 1024)).toBe(1);
  });
});

/**
 * Where oneDNN is off (the engine's choice on a VM without cache sizes), a chunk also holds at most
 * two 224 px images.
 */
function eigenLimit(side: number): number {
  const eigen = tf.getBackend() === 'tensorflow' && (process.env.TF_ENABLE_ONEDNN_OPTS === '0' || !['linux', 'win32'].includes(process.platform));
  return eigen ? Math.floor((2 * 224 * 224) / (side * side)) : Infinity;
}
