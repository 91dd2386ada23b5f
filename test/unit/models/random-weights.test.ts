// Random-weights control: same architecture, layers and convention; He-normal conv and dense
// weights from a seeded generator, zero biases, identity batch norms; other constants untouched.
import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/engine/backend';
import { parseOnnx } from '../../../src/main/engine/formats/onnx';
import { planGraph } from '../../../src/main/engine/graph/plan';
import { randomizedPlan } from '../../../src/main/engine/graph/random-weights';
import type { NetworkModel } from '../../../src/main/engine/model';
import { loadModelFile } from '../../../src/main/engine/models/load';
import { tempDir } from '../../helpers/temp';
import { buildModel, int, ints, weights } from './onnx-builder';
import { RESNET_FILE } from './reference';

function stats(data: ArrayLike<number>): { mean: number; std: number } {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < data.length; i++) {
    s += data[i];
    s2 += data[i] * data[i];
  }
  const mean = s / data.length;
  return { mean, std: Math.sqrt(s2 / data.length - mean * mean) };
}

describe('random-weights control', () => {
  const dir = tempDir();
  beforeAll(async () => {
    await initBackend();
  });

  it('draws He-normal weights by fan-in, zero biases, identity batch and layer norms, and keeps other constants', () => {
    const file = path.join(dir, 'small.onnx');
    const bytes = buildModel({
      nodes: [
        { op: 'Conv', inputs: ['x', 'w', 'wb'], output: 'conv', attrs: { pads: ints([1, 1, 1, 1]) } },
        { op: 'BatchNormalization', inputs: ['conv', 'g', 'b', 'm', 'v'], output: 'bn' },
        { op: 'Flatten', inputs: ['bn'], output: 'flat' },
        { op: 'Reshape', inputs: ['flat', 'shape'], output: 'again' },
        { op: 'Gemm', inputs: ['again', 'fc', 'fcb'], output: 'fc1', attrs: { transB: int(1) } },
        { op: 'LayerNormalization', inputs: ['fc1', 'lg', 'lb'], output: 'ln' },
      ],
      inits: {
        w: weights([64, 3, 5, 5], 1), wb: weights([64], 2), g: weights([64], 3), b: weights([64], 4), m: weights([64], 5),
        v: weights([64], 6), shape: { shape: [2], int64s: [1, -1] }, fc: weights([10, 64 * 4 * 4], 7), fcb: weights([10], 8),
        lg: weights([10], 9), lb: weights([10], 10),
      },
    });
    writeFileSync(file, bytes);
    const plan = planGraph(parseOnnx(bytes, file));
    const random = randomizedPlan(plan, 42);
    const data = (name: string) => random.constants.get(name)!.data;
    const w = stats(data('w'));
    expect(Math.abs(w.mean)).toBeLessThan(0.01);
    expect(w.std / Math.sqrt(2 / (3 * 5 * 5))).toBeCloseTo(1, 1);
    const fc = stats(data('fc'));
    expect(fc.std / Math.sqrt(2 / (64 * 4 * 4))).toBeCloseTo(1, 1);
    for (const [name, value] of [['wb', 0], ['g', 1], ['b', 0], ['m', 0], ['v', 1], ['fcb', 0], ['lg', 1], ['lb', 0]] as const) {
      expect(Array.from(data(name)).every((x) => x === value), name).toBe(true);
    }
    expect(random.constants.get('shape')).toBe(plan.constants.get('shape'));
    // The same seed gives the same weights; another seed others.
    expect(randomizedPlan(plan, 42).constants.get('w')!.data).toEqual(data('w'));
    expect(randomizedPlan(plan, 43).constants.get('w')!.data).not.toEqual(data('w'));
    // The plan it came from is untouched.
    expect(plan.constants.get('wb')!.data.some((x) => x !== 0)).toBe(true);
  });

  describe('on ResNet-50', () => {
    let trained: NetworkModel;
    let random: NetworkModel;
    beforeAll(async () => {
      trained = await loadModelFile(RESNET_FILE);
      random = trained.withRandomWeights(7);
    });
    afterAll(() => {
      trained.dispose();
      random.dispose();
    });

    it('keeps layers, receptive fields and the input convention, and is reproducible by seed', () => {
      expect(random.layers).toEqual(trained.layers);
      expect(random.inputConvention).toEqual(trained.inputConvention);
      expect(random.name).toMatch(/random weights, seed 7/);
      const x = tf.randomUniform([1, 64, 64, 3], 0, 255, 'float32', 3) as tf.Tensor4D;
      const run = (m: NetworkModel) => tf.tidy(() => m.forward(x, ['layer2']).layer2.dataSync());
      const again = trained.withRandomWeights(7);
      const other = trained.withRandomWeights(8);
      expect(run(again)).toEqual(run(random));
      expect(run(other)).not.toEqual(run(random));
      expect(run(trained)).not.toEqual(run(random));
      again.dispose();
      other.dispose();
      x.dispose();
    });
  });
});
