// Mean-ablation (METHODS §8). On a tiny classifier with a known answer: ablating a channel the
// classifier ignores changes nothing, ablating every channel it reads leaves one constant
// prediction, and the channel means are the central-neuron means. On the shared ResNet-50 and the
// 250 labelled samples: the run completes with 3 scales and 3 trials, and its intact top-1 equals
// onnxruntime-node's plain top-1 on the same images.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ablationSettings } from '../../../src/shared/analyses/ablation';
import { IMAGENET_WNIDS } from '../../../src/shared/imagenet-classes';
import { ablation } from '../../../src/main/engine/analyses/ablation';
import { initBackend } from '../../../src/main/engine/backend';
import { loadImageBatch } from '../../../src/main/engine/images';
import { loadModelFile } from '../../../src/main/engine/models/load';
import { scaledView } from '../../../src/main/engine/residual/scale-views';
import { labelsFromCsv, labelsFromNames } from '../../../src/main/engine/residual/labelled-images';
import { RESNET_FILE, SAMPLES, ortSession, runOrt } from '../models/reference';
import { colourClassifier, memoryContext, writeColourImages } from './tiny-models';

describe('mean-ablation on a tiny classifier with a known answer', () => {
  let dir = '';
  beforeAll(async () => {
    await initBackend();
    dir = mkdtempSync(path.join(os.tmpdir(), 'ablation-'));
    writeColourImages(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads labels from file names and from a CSV, with clear errors', () => {
    expect(labelsFromNames(dir).map((x) => [path.basename(x.file), x.label])).toEqual([0, 2, 4, 1, 3, 5].map((i) => [`${IMAGENET_WNIDS[i % 2]}_${i}.png`, i % 2]));
    const csv = path.join(dir, 'labels.csv');
    writeFileSync(csv, `file,wnid\n${IMAGENET_WNIDS[0]}_0.png,${IMAGENET_WNIDS[5]}\n${IMAGENET_WNIDS[1]}_1.png,7\n`);
    expect(labelsFromCsv(csv, dir).map((x) => x.label)).toEqual([5, 7]);
    writeFileSync(csv, 'file,wnid\na.png,n99999999\n');
    expect(() => labelsFromCsv(csv, dir)).toThrow(/n99999999.*neither/);
    rmSync(csv);
    expect(() => labelsFromNames(path.join(dir, 'missing'))).toThrow(/does not exist/);
  });

  it('scale views crop 256 - floor(2.56 p) px of the short side, and p = 0 is the usual crop', () => {
    const img = { width: 300, height: 256, data: new Float32Array(300 * 256 * 3).map((_, i) => Math.floor(i / 3 / 300)) };
    // Row index as the value: a central crop of side c keeps rows 128 - c/2 .. 128 + c/2, its centre row 127.5.
    const z0 = scaledView(img, 0);
    expect([z0.width, z0.height]).toEqual([224, 224]);
    expect(z0.data[0]).toBeCloseTo(16, 3); // crop 224: first row 16
    const z50 = scaledView(img, 50);
    // 128 px cut out (rows 64..191) and resized to 224: the first output row samples near row 64.
    expect(z50.data[0]).toBeGreaterThan(63.9);
    expect(z50.data[0]).toBeLessThan(64.5);
    expect(z50.data[(223 * 224) * 3]).toBeGreaterThan(190.5);
  });

  it('ablating ignored channels changes nothing, ablating the read one leaves one class, too few channels is an error', { timeout: 60_000 }, async () => {
    const run = async (channels: number[], trials: number) => {
      const ctx = memoryContext(colourClassifier);
      const s = ablationSettings.parse({ modelId: 'colour', block: 'block', images: dir, channels, scales: [0, 20], trials, batchSize: 4, maxDraws: 5 });
      await ablation.run(s, ctx);
      return ctx.emitted;
    };
    const before = tf.memory().numTensors;
    const ignored = await run([2], 2);
    expect(tf.memory().numTensors).toBe(before);
    const conditions = ignored.find((e) => e.key === 'conditions')!.data as Record<string, number[]>;
    expect(conditions.intactTop1).toEqual([100, 100]);
    expect(conditions.invariantTop1).toEqual([100, 100]);
    // Channel means: red is 250 in three images and 120 in three, scaled to -1..1, then averaged.
    const level = (v: number) => (v / 255 - 0.5) / 0.5;
    expect(conditions.channelMeans[0]).toBeCloseTo((level(250) + level(120)) / 2, 4);
    expect(conditions.channelMeans[1]).toBeCloseTo((level(250) + level(120)) / 2, 4);
    const summary = ignored.find((e) => e.key === 'summary')!.data as Record<string, unknown>;
    // A random set is channel 0 or 1. Red at its mean (0.45 > 0.3) makes every image class 0
    // (50 %); green is ignored (100 %). Every set passes the screen (at most the invariant 100 %).
    const sets = summary.randomChannels as number[][];
    const top1 = summary.randomTop1 as number[][];
    expect(sets).toHaveLength(2);
    sets.forEach((set, k) => expect(top1[k]).toEqual(set[0] === 0 ? [50, 50] : [100, 100]));
    const ratios = sets.map((set) => (set[0] === 0 ? 2 : 1));
    const mean = (ratios[0] + ratios[1]) / 2;
    expect(summary.ratioMean).toEqual([mean, mean]);
    expect((summary.ratioSe as number[])[0]).toBeCloseTo(Math.abs(ratios[0] - ratios[1]) / 2, 9);
    expect(summary.reference).toBe(mean);

    const both = await run([0, 1], 1).catch((e: Error) => e);
    // Only channel 2 is left to draw a set of two from: the run says so.
    expect(String(both)).toMatch(/2 channels ablated but only 1 others/);
  });
});

describe('mean-ablation on ResNet-50 and the 250 samples', () => {
  beforeAll(async () => {
    await initBackend();
  });

  // 3 to 7 minutes on 2 cores (400 s measured on a loaded machine): three full passes (one per
  // scale), then only the tail after layer4.2 for every ablation, plus the onnxruntime reference pass.
  it('completes with 3 scales and 3 trials; its intact top-1 is the plain top-1', { timeout: 600_000 }, async () => {
    const ctx = memoryContext(() => loadModelFile(RESNET_FILE));
    const s = ablationSettings.parse({
      modelId: 'resnet50',
      block: 'layer4.2',
      images: SAMPLES,
      labels: path.join(SAMPLES, 'labels.csv'),
      channels: '0-31',
      scales: '0,20,40',
      trials: 3,
    });
    await ablation.run(s, ctx);
    const summary = ctx.emitted.find((e) => e.key === 'summary')!.data as Record<string, unknown>;
    const { intactTop1, invariantTop1, randomTop1, ratioMean, ratioSe, draws } = summary;
    console.log('ResNet-50 layer4.2 ablation', { intactTop1, invariantTop1, randomTop1, ratioMean, ratioSe, draws });
    expect(summary.scales).toEqual([0, 20, 40]);
    expect(summary.trialsAccepted).toBe(3);
    expect((summary.ratioMean as number[]).every(Number.isFinite)).toBe(true);
    expect((summary.ratioSe as number[]).every((v) => Number.isFinite(v) && v >= 0)).toBe(true);

    // Plain top-1 by onnxruntime-node on the same 250 images (short side 256, centre 224).
    const rows = readFileSync(path.join(SAMPLES, 'labels.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    const session = await ortSession(RESNET_FILE);
    const mean = [123.68, 116.779, 103.939];
    let correct = 0;
    for (let i = 0; i < rows.length; i += 25) {
      const part = rows.slice(i, i + 25);
      const batch = await loadImageBatch(part.map((r) => path.join(SAMPLES, r[0])));
      const out = await runOrt(session, batch.data.map((v, k) => v - mean[k % 3]), batch.shape, ['logits']);
      part.forEach((r, j) => {
        const row = out.logits.data.subarray(j * 1000, (j + 1) * 1000);
        if (row.indexOf(Math.max(...row)) === Number(r[1])) correct++;
      });
    }
    const plain = (100 * correct) / rows.length;
    console.log(`plain top-1 (onnxruntime): ${plain.toFixed(1)} %`);
    expect((summary.intactTop1 as number[])[0]).toBeCloseTo(plain, 6);
    expect(plain).toBeGreaterThan(90);
  });
});
