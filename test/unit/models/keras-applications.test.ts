// The Keras applications architectures shipped in resources/zoo/keras, with random weights saved
// by Keras as weights-only H5 files (as the zoo's ImageNet files are): each file is matched to its
// architecture, declares the application's input convention, and computes what Keras computed
// (fixtures made by scripts/keras/make_application_fixtures.py; skipped when absent).
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/engine/backend';
import { inspectModelFile, loadModelFile } from '../../../src/main/engine/models/load';

const DIR = path.join(os.homedir(), '.cache/artiphys-fixtures/keras-apps');
const NAMES = ['mobilenet', 'inception_v3', 'vgg16_notop', 'resnet50_notop'];

interface Stored {
  shape: number[];
  data: number[];
}

describe.skipIf(!existsSync(DIR))(`Keras applications from weights-only H5 files (skipped when ${DIR} is absent: scripts/keras/make_application_fixtures.py makes it)`, () => {
  beforeAll(async () => {
    await initBackend();
  });

  for (const name of NAMES) {
    it(`${name}: matched, with its convention, and equal to Keras`, { timeout: 300_000 }, async () => {
      const file = path.join(DIR, `${name}.h5`);
      const { input, outputs } = JSON.parse(readFileSync(path.join(DIR, `${name}.json`), 'utf8')) as { input: Stored; outputs: Record<string, Stored> };
      const inspected = await inspectModelFile(file);
      expect(inspected.conventionGuessed).toBe(false);
      expect(inspected.inputConvention.channelOrder).toBe(name.startsWith('vgg') || name.startsWith('resnet') ? 'BGR' : 'RGB');
      // The fixture's input is already preprocessed: pass it through unchanged.
      const model = await loadModelFile(file, { inputConvention: { channelOrder: 'RGB', scale: 255, mean: [0, 0, 0], std: [1, 1, 1], inputSize: input.shape[1] } });
      try {
        const names = Object.keys(outputs);
        const got = tf.tidy(() => {
          const out = model.forward(tf.tensor4d(input.data, input.shape as [number, number, number, number]), names);
          return Object.fromEntries(names.map((n) => [n, { shape: out[n].shape, data: out[n].dataSync() }]));
        });
        for (const n of names) {
          expect(got[n].shape, n).toEqual(outputs[n].shape);
          const scale = outputs[n].data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
          const worst = outputs[n].data.reduce((m, v, i) => Math.max(m, Math.abs(v - got[n].data[i])), 0);
          expect(worst / scale, `${name} ${n}`).toBeLessThan(1e-4);
        }
      } finally {
        model.dispose();
      }
    });
  }
});
