// The run-level pieces of the diverse analysis the CLI and the views read: the random-weights
// control runs on a redrawn network (and says so), and the `summary` table holds every unit,
// also when the run resumed between batches from a checkpoint.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/main/engine/backend';
import type { ImageOut, RunContext } from '../../../src/main/engine/analysis';
import { diverse } from '../../../src/main/engine/analyses/diverse';
import { createCellModel } from '../../../src/main/engine/models/ground-truth';
import { loadModelFile } from '../../../src/main/engine/models/load';
import { diverseSettings } from '../../../src/shared/analyses/diverse';
import type { CellKind } from '../../../src/shared/builtin-models';

const VGG = path.resolve(__dirname, '../../../../shared/models/vgg19_features_to_pool3_caffe_rgb.onnx');

interface Recorded {
  results: Map<string, Record<string, unknown>>;
  images: Map<string, ImageOut[]>;
  checkpoints: unknown[];
}

async function run(settings: Record<string, unknown>, resumeFrom: unknown = null): Promise<Recorded> {
  const rec: Recorded = { results: new Map(), images: new Map(), checkpoints: [] };
  const ctx: RunContext = {
    runId: 1,
    seed: 11,
    cancelled: () => false,
    progress: () => {},
    emitResult: (key, data, images = []) => {
      rec.results.set(key, data);
      rec.images.set(key, images);
    },
    checkpoint: (state) => void rec.checkpoints.push(structuredClone(state)),
    resumeFrom,
    loadModel: async (id) => (id.startsWith('builtin:') ? createCellModel(id.replace('builtin:', '') as CellKind) : loadModelFile(id)),
    log: () => {},
  };
  await diverse.run(diverseSettings.parse(settings), ctx);
  return rec;
}

describe('diverse run: random-weights control and summary', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('runs the control on a redrawn network and records its seed', async () => {
    const base = { modelId: 'builtin:energy', lambdas: [0, 0.32], maxSteps: 30, indices: false };
    const before = tf.memory().numTensors;
    const trainedRun = await run(base);
    const randomRun = await run({ ...base, randomWeightsSeed: 3 });
    expect(tf.memory().numTensors).toBe(before);
    expect(trainedRun.results.get('unit/response/0')!.randomWeightsSeed).toBeNull();
    expect(randomRun.results.get('unit/response/0')!.randomWeightsSeed).toBe(3);
    expect(randomRun.results.get('summary')).toMatchObject({ randomWeightsSeed: 3 });
    // The control optimized another network: its lambda = 0 images drive the trained energy
    // unit far less than the trained run's own images do (same seeds, same norm).
    const energy = createCellModel('energy');
    const drive = (imgs: ImageOut[]) =>
      tf.tidy(() => {
        const x = tf.stack(imgs.map((im) => tf.tensor3d(Float32Array.from(im.rgb), [im.height, im.width, 3]))) as tf.Tensor4D;
        const y = energy.forward(x, ['response']).response;
        const [h, w] = y.shape.slice(1, 3);
        return tf.mean(tf.slice(y, [0, (h - 1) >> 1, (w - 1) >> 1, 0], [-1, 1, 1, 1])).dataSync()[0];
      });
    const own = drive(trainedRun.images.get('unit/response/0/lambda/0')!);
    const control = drive(randomRun.images.get('unit/response/0/lambda/0')!);
    energy.dispose();
    expect(control).toBeLessThan(0.5 * own);
  });

  it('lists every unit in the summary, also after resuming between batches', async () => {
    const settings = { modelId: VGG, layer: 'relu2_1', units: [0, 1, 2], unitsPerBatch: 2, lambdas: [0, 0.02], maxSteps: 4, textureCropStride: 5 };
    const full = await run(settings);
    const table = (full.results.get('summary')!.table as Record<string, unknown>[]).map((r) => r.channel);
    expect(table).toEqual([0, 1, 2]);
    for (const row of full.results.get('summary')!.table as Record<string, unknown>[]) {
      const unit = full.results.get(`unit/relu2_1/${row.channel}`)!;
      expect(row).toEqual({
        layer: 'relu2_1',
        channel: row.channel,
        lambdaStar: unit.lambdaStar,
        diversityRatio: unit.diversityRatio,
        diversityRatioRaw: unit.diversityRatioRaw,
        shiftInvariance: unit.shiftInvariance,
        linearCombination: unit.linearCombination,
      });
      expect(typeof row.shiftInvariance).toBe('number');
    }
    // Resume from the checkpoint taken when the first batch was finished.
    const afterFirst = full.checkpoints.find((c) => (c as { batch: number; units: unknown[] }).batch === 1 && (c as { units: unknown[] }).units.length === 0);
    expect(afterFirst).toBeDefined();
    const resumed = await run(settings, afterFirst);
    expect([...resumed.results.keys()].some((k) => k.startsWith('unit/relu2_1/0'))).toBe(false); // batch 1 not redone
    expect((resumed.results.get('summary')!.table as Record<string, unknown>[]).map((r) => r.channel)).toEqual([0, 1, 2]);
  });
});
