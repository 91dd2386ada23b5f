// Early stopping in a batch of units: once some units have stopped, the optimization runs the
// forward and backward passes on the running units' images alone, and no unit's result changes.
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { initBackend } from '../../../src/main/engine/backend';
import { diverseObjective } from '../../../src/main/engine/analyses/diverse';
import { precedingConvLayer } from '../../../src/main/engine/fv/layers';
import { optimize, type OptimizeResult } from '../../../src/main/engine/fv/optimize';
import { PixelImages } from '../../../src/main/engine/fv/parameterization';
import { GaussianSpectrumPrior } from '../../../src/main/engine/fv/prior';
import type { Objective } from '../../../src/main/engine/fv/objectives';
import { findLayer, meanPixel, rfSizedInput } from '../../../src/main/engine/model';
import { loadModelFile } from '../../../src/main/engine/models/load';
import { defaultTemplateNorm, NATURAL_SPECTRUM } from '../../../src/shared/math/natural-images';

const VGG = path.resolve(__dirname, '../../../../shared/models/vgg19_features_to_pool3_caffe_rgb.onnx');
const LAYER = 'relu3_1';
const UNITS = [5, 17, 60, 101];
const IMAGES = 3;

describe('optimizing a batch of units whose units stop at different steps', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('runs the passes on the running units alone, with the results of the whole batch', async () => {
    const vgg = await loadModelFile(VGG);
    const layer = findLayer(vgg, LAYER);
    const side = rfSizedInput(layer);
    const prior = new GaussianSpectrumPrior(NATURAL_SPECTRUM, side, side);
    const spec = { layer: LAYER, channels: UNITS, imagesPerGroup: IMAGES, position: null, rf: layer.rf, inputSide: side };
    const objective = diverseObjective(spec, prior, 0.0005, precedingConvLayer(vgg, LAYER), 0.3);
    const run = async (o: Objective) => {
      const images = new PixelImages({
        seeds: UNITS.flatMap((_, u) => Array.from({ length: IMAGES }, (_, i) => 100 * u + i + 1)),
        height: side,
        width: side,
        norm: defaultTemplateNorm(side),
        meanPixel: meanPixel(vgg.inputConvention),
        tangentGradient: true,
      });
      const batches = vi.spyOn(vgg, 'forwardAt');
      try {
        const res: OptimizeResult = await optimize(vgg, images, o, {
          groups: UNITS.length,
          maxSteps: 60,
          learningRate: 0.1,
          patience: 3,
          emaDecay: 0.9,
          minImprovement: 0.05,
          precondition: true,
        });
        const rendered = images.render();
        const pixels = await rendered.data();
        rendered.dispose();
        return { res, pixels, batches: batches.mock.calls.map(([p]) => p.shape[0]) };
      } finally {
        batches.mockRestore();
        images.dispose();
      }
    };
    try {
      expect(objective.forGroups).toBeDefined();
      const split = await run(objective);
      // The same objective without the split: every step runs the whole batch.
      const whole = await run({ ...objective, forGroups: undefined });
      expect(new Set(split.res.steps).size).toBeGreaterThan(1);
      expect(whole.batches.every((n) => n === UNITS.length * IMAGES)).toBe(true);
      expect(split.res.steps).toEqual(whole.res.steps);
      // Each step's batch holds the images of the units still running at that step.
      const running = (step: number) => split.res.steps.filter((s) => s >= step).length;
      expect(split.batches).toEqual(split.batches.map((_, k) => running(k + 1) * IMAGES));
      split.res.values.forEach((v, u) => expect(Math.abs(v - whole.res.values[u])).toBeLessThan(1e-3 * Math.abs(whole.res.values[u])));
      // Each image's passes do not depend on the others in the batch: the same pixels.
      let worst = 0;
      split.pixels.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - whole.pixels[i]))));
      expect(worst).toBeLessThan(1e-3);
    } finally {
      prior.dispose();
      vgg.dispose();
    }
  });
});
