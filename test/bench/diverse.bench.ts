// Speed of the diverse-visualization step (METHODS §2): one optimization step of n = 6 images
// per unit with every term of the run on (activation, Gaussian prior, min-distance diversity in
// the preceding conv layer, Fourier preconditioning, tangent projection, Adam, norm rescaling),
// for 16 units batched in one forward/backward pass and for one unit alone.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { diverseObjective } from '../../src/main/engine/analyses/diverse';
import { findLayer, meanPixel, rfSizedInput, type NetworkModel } from '../../src/main/engine/model';
import { createCellModel } from '../../src/main/engine/models/ground-truth';
import { loadModelFile } from '../../src/main/engine/models/load';
import { precedingConvLayer } from '../../src/main/engine/fv/layers';
import { optimize } from '../../src/main/engine/fv/optimize';
import { PixelImages } from '../../src/main/engine/fv/parameterization';
import { GaussianSpectrumPrior } from '../../src/main/engine/fv/prior';
import { diverseSettings } from '../../src/shared/analyses/diverse';
import { defaultTemplateNorm, NATURAL_SPECTRUM } from '../../src/shared/math/natural-images';
import type { BenchModule } from './run';

const VGG_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/models/vgg19_features_to_pool3_caffe_rgb.onnx');
const N = 6;

/** Mean seconds per step over `steps` steps after 3 warm-up steps; early stopping off. */
function secondsPerStep(model: NetworkModel, layerName: string, channels: number[], steps: number): number {
  const s = diverseSettings.parse({});
  const layer = findLayer(model, layerName);
  const side = rfSizedInput(layer);
  const spec = { layer: layerName, channels, imagesPerGroup: N, position: null, rf: layer.rf, inputSide: side };
  const prior = new GaussianSpectrumPrior(NATURAL_SPECTRUM, side, side);
  const objective = diverseObjective(spec, prior, s.priorAlpha, precedingConvLayer(model, layerName), 0.02);
  const images = new PixelImages({
    seeds: Array.from({ length: channels.length * N }, (_, i) => i + 1),
    height: side,
    width: side,
    norm: defaultTemplateNorm(side),
    meanPixel: meanPixel(model.inputConvention),
    tangentGradient: s.tangentGradient,
  });
  const opts = { ...s, groups: channels.length, patience: Infinity };
  try {
    optimize(model, images, objective, { ...opts, maxSteps: 3 });
    const t = performance.now();
    optimize(model, images, objective, { ...opts, maxSteps: steps });
    return (performance.now() - t) / 1000 / steps;
  } finally {
    images.dispose();
    prior.dispose();
  }
}

const bench: BenchModule = {
  title: `diverse visualization step, n = ${N} images per unit, 16 units batched vs 1 unit (${tf.getBackend()} backend)`,
  async run(report) {
    const cases = [
      // The cell model has one channel: 16 units of it cost what 16 different units would.
      { label: 'complex cell response', load: async () => createCellModel('complex-cell'), layer: 'response', batch: Array<number>(16).fill(0), steps: [50, 100] },
      { label: 'VGG-19 relu3_1', load: () => loadModelFile(VGG_FILE), layer: 'relu3_1', batch: Array.from({ length: 16 }, (_, i) => i), steps: [10, 30] },
    ];
    for (const c of cases) {
      const model = await c.load();
      try {
        const batched = secondsPerStep(model, c.layer, c.batch, c.steps[0]);
        report(`${c.label}, 16 units: per optimization step`, batched, 's');
        report(`${c.label}, 16 units: per unit-step`, batched / 16, 's');
        const alone = secondsPerStep(model, c.layer, [c.batch[0]], c.steps[1]);
        report(`${c.label}, 1 unit: per optimization step`, alone, 's');
        report(`${c.label}, 1 unit: per unit-step`, alone, 's');
      } finally {
        model.dispose();
      }
    }
  },
};
export default bench;
