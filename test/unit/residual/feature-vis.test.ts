// The feature-vis analysis (METHODS §6) on the Gabor residual block: per channel one image and
// its final activation, channels batched, the optimization raising each objective well above
// where the grey start leaves it, and no tensors left behind.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { featureVisSettings } from '../../../src/shared/analyses/feature-vis';
import { featureVis } from '../../../src/main/engine/analyses/feature-vis';
import { initBackend } from '../../../src/main/engine/backend';
import { channelObjective } from '../../../src/main/engine/fv/lucid';
import { FourierImages } from '../../../src/main/engine/fv/fourier-image';
import { gaborResidualBlock, memoryContext } from './tiny-models';

// Neurons of the skip path (plain Gabor detectors: a ReLU'd one can start dead at the grey
// image); channels of the branch output (ReLU'd detectors: plain Gabor responses average to about
// zero over any image, so their channel mean cannot be raised).
const LAYERS = { neuron: '/block/downsample/BatchNormalization_output_0', channel: '/block/bn2/BatchNormalization_output_0' };
// Early-layer transforms: a 12 px jitter would scramble the phase of these 5 px-period detectors
// at every step (the reason METHODS makes transforms a per-layer setting).
const MILD = { pad: 2, jitter: 2, scales: [0.96, 1, 1.04], rotations: [-2, 0, 0, 2], jitterFine: 1 };

describe('feature-vis analysis', () => {
  beforeAll(async () => {
    await initBackend();
  });

  for (const objective of ['neuron', 'channel'] as const) {
    it(`${objective} objective: one image and activation per channel, raised by the optimization`, { timeout: 60_000 }, async () => {
      const LAYER = LAYERS[objective];
      // Shortened for CI: 40 px, 48 steps (METHODS: 128 px, 512 steps).
      const s = featureVisSettings.parse({ modelId: 'gabor', layer: LAYER, channels: [0, 1], objective, size: 40, steps: 48, transforms: MILD });
      const ctx = memoryContext(gaborResidualBlock);
      const before = tf.memory().numTensors;
      await featureVis.run(s, ctx);
      expect(tf.memory().numTensors).toBe(before);
      expect(ctx.emitted.map((e) => e.key)).toEqual([`channel/${LAYER}/0`, `channel/${LAYER}/1`]);
      // The objective of the starting images (grey plus N(0, 0.01) spectra), for comparison.
      const model = gaborResidualBlock();
      const start = new FourierImages({ seeds: [1, 2], height: 40, width: 40 });
      const pixels = start.render();
      const initial = tf.tidy(() => Array.from(channelObjective(model, LAYER, [0, 1], objective).evaluate({ acts: model.forward(pixels, [LAYER]), pixels }).dataSync()));
      tf.dispose(pixels);
      start.dispose();
      model.dispose();
      for (const [i, e] of ctx.emitted.entries()) {
        expect(e.images).toHaveLength(1);
        expect([e.images[0].width, e.images[0].height]).toEqual([40, 40]);
        // Detector responses are at most 1 (unit L1 filters on -1..1 pixels).
        expect(e.data.activation as number).toBeGreaterThan(Math.abs(initial[i]) + (objective === 'neuron' ? 0.2 : 0.05));
        expect(e.data.activation as number).toBeLessThanOrEqual(1);
      }
    });
  }

  it('sees a cancel between optimization steps and leaves nothing behind', { timeout: 30_000 }, async () => {
    const s = featureVisSettings.parse({ modelId: 'gabor', layer: LAYERS.neuron, channels: [0, 1], size: 40, steps: 100_000, transforms: MILD });
    let cancel = false;
    const ctx = { ...memoryContext(gaborResidualBlock), cancelled: () => cancel };
    const before = tf.memory().numTensors;
    const timer = setTimeout(() => (cancel = true), 500);
    const started = performance.now();
    await featureVis.run(s, ctx);
    clearTimeout(timer);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(ctx.emitted).toEqual([]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
