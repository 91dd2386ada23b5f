// ResNet-50 classification of the 250 labelled sample images, preprocessed by the stored
// convention (short side 256, centre crop 224): the top-1 class of every image must equal
// onnxruntime's, and the accuracy is reported against the labels.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/engine/backend';
import { loadImageBatch } from '../../../src/main/engine/images';
import type { NetworkModel } from '../../../src/main/engine/model';
import { loadModelFile } from '../../../src/main/engine/models/load';
import { RESNET_FILE, SAMPLES, argmaxRows, ortSession, runOrt } from './reference';

const MEAN = [123.68, 116.779, 103.939];
const BATCH = 25;

describe('ResNet-50 top-1 on the 250 sample images', () => {
  let model: NetworkModel;
  beforeAll(async () => {
    await initBackend();
    model = await loadModelFile(RESNET_FILE);
  });
  afterAll(() => model.dispose());

  // About 90 s of CPU on 2 cores (ResNet-50 twice over 250 images); the limit leaves room for a busy machine.
  it('equals onnxruntime for every image, and scores about the README accuracy', { timeout: 300_000 }, async () => {
    const rows = readFileSync(path.join(SAMPLES, 'labels.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    expect(rows).toHaveLength(250);
    const session = await ortSession(RESNET_FILE);
    const ours: number[] = [];
    const reference: number[] = [];
    for (let i = 0; i < rows.length; i += BATCH) {
      const part = rows.slice(i, i + BATCH);
      const batch = await loadImageBatch(part.map((r) => path.join(SAMPLES, r[0])));
      const logits = tf.tidy(() => model.forward(tf.tensor4d(batch.data, batch.shape), ['logits']).logits.dataSync());
      ours.push(...argmaxRows(logits, part.length, 1000));
      const ref = await runOrt(session, batch.data.map((v, k) => v - MEAN[k % 3]), batch.shape, ['logits']);
      reference.push(...argmaxRows(ref.logits.data, part.length, 1000));
    }
    const disagreements = rows.filter((_, k) => ours[k] !== reference[k]).map((r) => r[0]);
    expect(disagreements).toEqual([]);
    const accuracy = ours.filter((c, k) => c === Number(rows[k][1])).length / rows.length;
    console.log(`ResNet-50 top-1 on the 250 sample images: ${(100 * accuracy).toFixed(1)} % (README: 92.4 % with PIL resizing)`);
    expect(accuracy).toBeGreaterThan(0.9);
  });
});
