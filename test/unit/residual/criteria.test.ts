// The done-when test of issue 5: a residual block whose skip path carries a small Gabor detector
// and whose branch carries the same detector at twice the size is found scale invariant by the
// criteria of METHODS §7 (both computed from Lucid-style visualizations), and a control channel
// whose branch carries the small detector again is not.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { scaleInvarianceSettings } from '../../../src/shared/analyses/scale-invariance';
import { scaleInvariance } from '../../../src/main/engine/analyses/scale-invariance';
import { initBackend } from '../../../src/main/engine/backend';
import { evaluateCriteria as evaluate } from '../../../src/main/engine/residual/criteria';
import { findResidualBlocks } from '../../../src/main/engine/residual/blocks';
import { gaborResidualBlock, memoryContext } from './tiny-models';

// Shortened for CI: 56 px images and 128 steps (METHODS: 128 px, 512 steps) and a mild transform
// stack; detectors of 15 and 29 px with periods 5 and 10 px converge in that.
const SETTINGS = scaleInvarianceSettings.parse({
  modelId: 'gabor-block',
  blocks: ['block'],
  size: 56,
  steps: 128,
  // The gallery's extra visualizations are left out here (they would double the time).
  galleryVisualizations: false,
  transforms: { pad: 2, jitter: 2, scales: [0.96, 1, 1.04], rotations: [-2, 0, 0, 2], jitterFine: 1 },
});

describe('scale-invariance criteria', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('evaluates (1) and (2) with strict bounds', () => {
    const base = { inOfIn: 1, preOfPre: 1, preOfIn: 0.2, preOfZoomedIn: 0.5, postOfIn: 1, postOfPre: 1 };
    const evaluateCriteria = (v: typeof base) => evaluate(v, 0.01);
    expect(evaluateCriteria(base).scaleInvariant).toBe(true);
    // (1) compares with ReLU(Pre(X_In)): a negative Pre(X_In) counts as 0.
    expect(evaluateCriteria({ ...base, preOfIn: -3, preOfZoomedIn: 0.01 }).criterion1).toBe(true);
    expect(evaluateCriteria({ ...base, preOfIn: -3, preOfZoomedIn: 0 }).criterion1).toBe(false);
    expect(evaluateCriteria({ ...base, preOfZoomedIn: 0.2 }).criterion1).toBe(false);
    expect(evaluateCriteria({ ...base, postOfIn: 1.5 }).criterion2).toBe(false);
    expect(evaluateCriteria({ ...base, postOfIn: 1.49 }).criterion2).toBe(true);
    expect(evaluateCriteria({ ...base, postOfIn: 2 / 3 }).criterion2).toBe(false);
    expect(evaluateCriteria({ ...base, postOfPre: 0 }).criterion2).toBe(false);
  });

  it('marks the two-scale Gabor channel scale invariant and the control not', { timeout: 120_000 }, async () => {
    const probe = gaborResidualBlock();
    expect(findResidualBlocks(probe).map((b) => [b.name, b.inAfterRelu, b.pre])).toEqual([
      ['block', '/block/downsample/BatchNormalization_output_0', '/block/bn2/BatchNormalization_output_0'],
    ]);
    probe.dispose();
    // The run loads (and disposes) its own model: every tensor it made is gone afterwards.
    const ctx = memoryContext(gaborResidualBlock);
    const before = tf.memory().numTensors;
    await scaleInvariance.run(SETTINGS, ctx);
    expect(tf.memory().numTensors).toBe(before);
    const channel = (c: number) => ctx.emitted.find((e) => e.key === `channel/block/${c}`)!.data as Record<string, number | boolean>;
    const [inv, control] = [channel(0), channel(1)];
    console.log('invariant channel', inv, '\ncontrol channel', control);
    expect(inv.criterion1).toBe(true);
    expect(inv.criterion2).toBe(true);
    expect(inv.scaleInvariant).toBe(true);
    expect(control.criterion1).toBe(false);
    expect(control.scaleInvariant).toBe(false);
    const summary = ctx.emitted.find((e) => e.key === 'block/block')!.data;
    expect(summary).toMatchObject({ passing: [0], count: 1, tested: 2, percent: 50 });
    const images = ctx.emitted.find((e) => e.key === 'channel/block/0')!.images;
    expect(images.map((i) => [i.name, i.width, i.height])).toEqual([
      ['in-neuron', 56, 56],
      ['pre-neuron', 56, 56],
      ['in-zoomed', 56, 56],
    ]);
  });

  it('resumes from its checkpoint: done channels are not redone and the summary counts them', { timeout: 60_000 }, async () => {
    const quick = scaleInvarianceSettings.parse({ modelId: 'gabor-block', blocks: 'block', size: 32, steps: 4, batchSize: 1, galleryVisualizations: false });
    // First run: cancelled once channel 0 is stored.
    const first = memoryContext(gaborResidualBlock);
    const cancelling = { ...first, cancelled: () => first.emitted.length > 0 };
    await scaleInvariance.run(quick, cancelling);
    expect(first.emitted.map((e) => e.key)).toEqual(['channel/block/0']);
    const second = { ...memoryContext(gaborResidualBlock), resumeFrom: first.checkpoints.at(-1)! };
    await scaleInvariance.run(quick, second);
    expect(second.emitted.map((e) => e.key)).toEqual(['channel/block/1', 'block/block']);
    const passing = [first.emitted[0], second.emitted[0]].filter((e) => e.data.scaleInvariant).map((e) => e.data.channel);
    expect(second.emitted[1].data).toMatchObject({ tested: 2, passing, count: passing.length });
  });
});
