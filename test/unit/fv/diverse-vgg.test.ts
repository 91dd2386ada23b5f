// A short real diverse run on VGG-19 relu3_1 (real weights from ../shared/models): everything a
// unit's views need is stored, and units a noise image leaves silent are woken.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/main/engine/backend';
import type { ImageOut, RunContext } from '../../../src/main/engine/analysis';
import { diverse } from '../../../src/main/engine/analyses/diverse';
import { meanPixel, type NetworkModel } from '../../../src/main/engine/model';
import { loadModelFile } from '../../../src/main/engine/models/load';
import { PixelImages } from '../../../src/main/engine/fv/parameterization';
import { preActivationLayer, silentRows, wakeSilentRows } from '../../../src/main/engine/fv/starts';
import { diverseSettings } from '../../../src/shared/analyses/diverse';

const VGG = path.resolve(__dirname, '../../../../shared/models/vgg19_features_to_pool3_caffe_rgb.onnx');

describe('diverse visualization on VGG-19 relu3_1', () => {
  let model: NetworkModel;
  beforeAll(async () => {
    await initBackend();
    model = await loadModelFile(VGG);
  });
  afterAll(() => model.dispose());

  it('wakes starting images the unit is silent for, through its pre-ReLU conv output', async () => {
    const pre = preActivationLayer(model, 'relu3_1');
    expect(pre).toBe('/features.10/Conv_output_0');
    const spec = { layer: 'relu3_1', channels: [3], imagesPerGroup: 12, position: null, rf: model.layers.find((l) => l.name === 'relu3_1')!.rf, inputSide: 26 };
    const images = new PixelImages({
      seeds: Array.from({ length: 12 }, (_, i) => i + 1),
      height: 26,
      width: 26,
      norm: 600,
      meanPixel: meanPixel(model.inputConvention),
      tangentGradient: true,
    });
    const silent = await silentRows(model, images, spec);
    expect(silent.length).toBeGreaterThan(0); // channel 3 is off for most noise images
    expect(await wakeSilentRows(model, images, spec, pre!, silent)).toEqual([]);
    expect(await silentRows(model, images, spec)).toEqual([]);
    images.dispose();
  });

  it('stores images, curves, lambda*, the diversity ratio and both indices for every unit', async () => {
    const results = new Map<string, { data: Record<string, unknown>; images: ImageOut[] }>();
    const ctx: RunContext = {
      runId: 1,
      seed: 5,
      cancelled: () => false,
      progress: () => {},
      emitResult: (key, data, images = []) => void results.set(key, { data, images }),
      checkpoint: () => {},
      resumeFrom: null,
      loadModel: (id) => loadModelFile(id),
      log: () => {},
    };
    const before = tf.memory().numTensors;
    // Few steps and 4 crops per texture: this checks the plumbing on a real network, not convergence.
    await diverse.run(
      diverseSettings.parse({ modelId: VGG, layer: 'relu3_1', units: [0, 3], lambdas: [0, 0.02], maxSteps: 15, textureCropStride: 13 }),
      ctx,
    );
    expect(tf.memory().numTensors).toBe(before);
    for (const channel of [0, 3]) {
      const key = `unit/relu3_1/${channel}`;
      for (const li of [0, 1]) {
        const r = results.get(`${key}/lambda/${li}`)!;
        expect(r.images.map((i) => [i.name.split('/')[0], i.width, i.height])).toEqual(
          Array(6).fill([li === 0 ? 'lambda-0' : 'lambda-0.02', 26, 26]),
        );
      }
      const d = results.get(key)!.data;
      expect(d).toMatchObject({ complete: true, distanceLayer: 'relu2_2', tau: 0.9, lambdas: [0, 0.02], silentStarts: [0, 0] });
      expect((d.activation as number[])[0]).toBeGreaterThan(0);
      for (const k of ['diversityRatio', 'shiftInvariance', 'linearCombination', 'noiseDistance', 'lambdaScale']) {
        expect(Number.isFinite(d[k] as number), k).toBe(true);
      }
      const names = results.get(key)!.images.map((i) => i.name);
      expect(names.filter((n) => n.startsWith('lambda-star/'))).toHaveLength(6);
      expect(names).toContain('texture');
    }
  });

  // The run that stalled: after the lambdas, one texture step at crop stride 1 was a pass over
  // 676 crops per unit, and the engine grew to 10 GB. Default settings but the step count.
  it('runs 3 lambdas and the indices at crop stride 1 on 2 units with the process below 3 GB', async () => {
    const progress: string[] = [];
    const results = new Map<string, Record<string, unknown>>();
    const ctx: RunContext = {
      runId: 2,
      seed: 7,
      cancelled: () => false,
      progress: (_step, _total, text) => void (text && progress.push(text)),
      emitResult: (key, data) => void results.set(key, data),
      checkpoint: () => {},
      resumeFrom: null,
      loadModel: (id) => loadModelFile(id),
      log: () => {},
    };
    const before = tf.memory().numTensors;
    await diverse.run(diverseSettings.parse({ modelId: VGG, layer: 'relu3_1', units: [0, 1], lambdas: [0, 0.02, 0.04], maxSteps: 10 }), ctx);
    expect(tf.memory().numTensors).toBe(before);
    expect(process.resourceUsage().maxRSS * 1024).toBeLessThan(3 * 2 ** 30);
    for (const channel of [0, 1]) {
      const d = results.get(`unit/relu3_1/${channel}`)!;
      expect(d).toMatchObject({ complete: true, lambdas: [0, 0.02, 0.04], textureCropStride: 1, textureCrops: 26 * 26, textureCropsPerStep: 16 });
      expect(Number.isFinite(d.shiftInvariance as number)).toBe(true);
    }
    expect(progress.some((p) => p.startsWith('texture: step 10'))).toBe(true);
  });
});
