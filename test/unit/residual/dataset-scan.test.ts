// Dataset scan (METHODS §11) on the colour classifier: the Post layer of its block is the image's
// red, green and blue, so the ranking of each channel over the six images is known in advance.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetScanSettings } from '../../../src/shared/analyses/dataset-scan';
import { datasetScan } from '../../../src/main/engine/analyses/dataset-scan';
import { initBackend } from '../../../src/main/engine/backend';
import { colourClassifier, memoryContext, writeColourImages } from './tiny-models';

describe('dataset scan', () => {
  let dir = '';
  beforeAll(async () => {
    await initBackend();
    dir = mkdtempSync(path.join(os.tmpdir(), 'scan-'));
    writeColourImages(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the top and bottom images per unit with their activations and RF crops', async () => {
    const ctx = memoryContext(colourClassifier);
    const s = datasetScanSettings.parse({ modelId: 'colour', images: dir, blocks: 'block', roles: ['post'], topK: 3, bottomK: 2, batchSize: 4, crop: 24, resize: 24 });
    const before = tf.memory().numTensors;
    await datasetScan.run(s, ctx);
    expect(tf.memory().numTensors).toBe(before);
    expect(ctx.emitted.map((e) => e.key)).toEqual(['unit/block/post/0', 'unit/block/post/1', 'unit/block/post/2']);
    const unit = (c: number) => ctx.emitted[c].data as { top: { file: string; activation: number }[]; bottom: { file: string; activation: number }[] };
    const index = (f: string) => Number(/_(\d)\.png$/.exec(f)![1]);
    // Blue grows with the image index: the top three are 5, 4, 3 and the bottom two 0, 1.
    expect(unit(2).top.map((t) => index(t.file))).toEqual([5, 4, 3]);
    expect(unit(2).bottom.map((t) => index(t.file))).toEqual([0, 1]);
    const tops = unit(2).top.map((t) => t.activation);
    expect(tops[0]).toBeGreaterThan(tops[1]);
    // Red: the even images share the top value, the odd ones the bottom.
    expect(unit(0).top.every((t) => index(t.file) % 2 === 0)).toBe(true);
    expect(unit(0).bottom.every((t) => index(t.file) % 2 === 1)).toBe(true);
    // A 1x1 receptive field: each crop is the one central pixel, as PNG-ready RGB.
    const crops = ctx.emitted[2].images;
    expect(crops.map((c) => c.name)).toEqual(['top-0', 'top-1', 'top-2', 'bottom-0', 'bottom-1']);
    expect(crops.every((c) => c.width === 1 && c.height === 1)).toBe(true);
    expect(crops[0].rgb[2]).toBeGreaterThan(crops[3].rgb[2]);
  });
});
