// Issue 15, point 14: Lucid-style visualizations start near grey, and a channel behind a ReLU that
// is off for grey has zero gradient there, so before the fix its image never moved (8 of 16 In
// images of ResNet-50 layer1.1 stayed silent) and the scale criteria then passed on near-zero
// values. Now silent starts are redrawn and walked up the pre-ReLU layer, and channels whose
// visualizations stay at or below the silent floor are reported silent, not judged.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { featureVisSettings } from '../../../src/shared/analyses/feature-vis';
import { featureVis } from '../../../src/main/engine/analyses/feature-vis';
import { initBackend } from '../../../src/main/engine/backend';
import { evaluateCriteria } from '../../../src/main/engine/residual/criteria';
import { FourierImages } from '../../../src/main/engine/fv/fourier-image';
import { channelObjective, silentLucidRows } from '../../../src/main/engine/fv/lucid';
import { preActivationLayer } from '../../../src/main/engine/fv/starts';
import { GraphBuilder, greyGabor, memoryContext, stackFilters } from './tiny-models';

const RELU = '/relu/Relu_output_0';

/**
 * Conv (two 9 px Gabor detectors, bias -0.2) → ReLU: near-grey images (pixels about 0 in -1..1)
 * give -0.2 everywhere, so both channels are off and silent at the start. Channel 1's detector is
 * zero: it can never respond (a dead channel).
 */
function biasedDetector() {
  const g = new GraphBuilder();
  const w = stackFilters(9, [{ data: greyGabor(9, 4), size: 9 }, { data: new Float32Array(3 * 81), size: 9 }]);
  const conv = g.node('/conv/Conv_output_0', 'Conv', ['input', g.const('conv.w', [2, 3, 9, 9], w), g.const('conv.b', [2], Float32Array.from([-0.2, -0.2]))], {
    kernel_shape: { kind: 'ints', value: [9, 9] },
    pads: { kind: 'ints', value: [4, 4, 4, 4] },
  });
  g.node(RELU, 'Relu', [conv]);
  return g.model('biased-detector', [RELU]);
}

const SETTINGS = {
  modelId: 'biased-detector',
  layer: RELU,
  channels: [0, 1],
  size: 32,
  steps: 48,
  transforms: { pad: 0, jitter: 0, scales: [1], rotations: [0], jitterFine: 0 },
};

describe('silent starts of Lucid-style visualizations', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('finds the near-grey start silent (value 0, zero gradient) and has a pre-ReLU layer to wake it', () => {
    const model = biasedDetector();
    expect(preActivationLayer(model, RELU)).toBe('/conv/Conv_output_0');
    model.dispose();
  });

  it('redraws and wakes a silent start, so the channel is visualized; a dead channel is reported silent', async () => {
    const model = biasedDetector();
    const images = new FourierImages({ seeds: [1, 2], height: 32, width: 32 });
    expect(await silentLucidRows(model, images, channelObjective(model, RELU, [0, 1], 'neuron'))).toEqual([0, 1]);
    images.dispose();
    model.dispose();

    const ctx = memoryContext(biasedDetector);
    const before = tf.memory().numTensors;
    await featureVis.run(featureVisSettings.parse(SETTINGS), ctx);
    expect(tf.memory().numTensors).toBe(before);
    const [live, dead] = [0, 1].map((c) => ctx.emitted.find((e) => e.key === `channel/${RELU}/${c}`)!.data);
    // Without the redraw both stayed at exactly 0 through every step.
    expect(live).toMatchObject({ silentStart: 'redrawn', silent: false, silentActivation: 0.01 });
    expect(live.activation as number).toBeGreaterThan(0.1);
    expect(dead).toMatchObject({ silentStart: 'silent', silent: true, activation: 0 });
  });

  it('reports the criteria of a channel whose visualization is silent as not judged', () => {
    // A silent X_In and a barely active X_Pre: (1) 0 < 1e-6 and (2) 1e-6 / 1e-6 = 1 both "passed".
    const nearZero = { inOfIn: 0, preOfPre: 1e-5, preOfIn: 0, preOfZoomedIn: 1e-6, postOfIn: 1e-6, postOfPre: 1e-6 };
    expect(evaluateCriteria(nearZero, 0)).toMatchObject({ silent: true, criterion1: null, criterion2: null, scaleInvariant: null });
    expect(evaluateCriteria({ ...nearZero, inOfIn: 0.5 }, 0.01)).toMatchObject({ silent: true, scaleInvariant: null });
    const live = evaluateCriteria({ ...nearZero, inOfIn: 0.5, preOfPre: 0.5 }, 0.01);
    expect(live).toMatchObject({ silent: false, criterion1: true, criterion2: true, scaleInvariant: true });
  });
});
