// Keras H5 (Keras 2 and Keras 3 layouts) and TensorFlow.js layers models, read into the graph and
// run: every layer's output equals what Keras computed for the same input (reference.json, made
// with the fixtures by scripts/keras/make_test_fixtures.py). Covers TensorFlow's asymmetric
// 'same' padding at stride 2, depthwise kernels, channels-last Flatten before Dense, the
// MobileNet-style head, and the zoo architectures' configs.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/engine/backend';
import { readKerasModel } from '../../../src/main/engine/formats/keras-layers';
import { inspectModelFile, loadModelFile } from '../../../src/main/engine/models/load';
import { REPO } from './reference';

const KERAS_FIXTURES = path.join(REPO, 'test/fixtures/keras');

interface Stored {
  shape: number[];
  data: number[];
}
const reference = JSON.parse(readFileSync(path.join(KERAS_FIXTURES, 'reference.json'), 'utf8')) as Record<string, { input: Stored; outputs: Record<string, Stored> }>;

/** No preprocessing: the network sees the pixel values as given. */
const IDENTITY = { channelOrder: 'RGB', scale: 255, mean: [0, 0, 0], std: [1, 1, 1] } as const;

async function expectKerasOutputs(file: string, fixture: string): Promise<void> {
  const { input, outputs } = reference[fixture];
  const model = await loadModelFile(file, { inputConvention: { ...IDENTITY, mean: [0, 0, 0], std: [1, 1, 1], inputSize: input.shape[1] } });
  try {
    const names = Object.keys(outputs);
    const got = tf.tidy(() => {
      const out = model.forward(tf.tensor4d(input.data, input.shape as [number, number, number, number]), names);
      return Object.fromEntries(names.map((n) => [n, { shape: out[n].shape, data: out[n].dataSync() }]));
    });
    for (const name of names) {
      const want = outputs[name];
      expect(got[name].shape, name).toEqual(want.shape); // both channels-last
      const scale = want.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const worst = want.data.reduce((m, v, i) => Math.max(m, Math.abs(v - got[name].data[i])), 0);
      expect(worst / scale, `${name} of ${path.basename(file)}`).toBeLessThan(1e-4);
    }
  } finally {
    model.dispose();
  }
}

describe('Keras models equal Keras', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('Keras 2 H5 (model_config + model_weights)', async () => {
    await expectKerasOutputs(path.join(KERAS_FIXTURES, 'tiny.h5'), 'tiny');
  });

  it('Keras 3 H5 (model.save to .h5, Keras 3 config format)', async () => {
    await expectKerasOutputs(path.join(KERAS_FIXTURES, 'tiny-keras3.h5'), 'tiny');
  });

  it('TensorFlow.js layers model (model.json + shard)', async () => {
    await expectKerasOutputs(path.join(KERAS_FIXTURES, 'tiny-tfjs/model.json'), 'tiny');
  });

  it('Sequential: a channels-last Flatten before a Dense', async () => {
    await expectKerasOutputs(path.join(KERAS_FIXTURES, 'sequential.h5'), 'sequential');
  });

  it('inspection reports the format and the layers by their Keras names', async () => {
    const h5 = await inspectModelFile(path.join(KERAS_FIXTURES, 'tiny.h5'));
    expect(h5.format).toBe('keras-h5');
    expect(h5.conventionGuessed).toBe(true);
    expect(h5.layers.map((l) => l.name)).toEqual(expect.arrayContaining(['conv_s2', 'dw', 'cat', 'sum', 'probs']));
    const tfjs = await inspectModelFile(path.join(KERAS_FIXTURES, 'tiny-tfjs/model.json'));
    expect(tfjs.format).toBe('tfjs');
  });
});

describe('the shipped Keras applications architectures', () => {
  it('all read, with only supported layers', () => {
    const dir = path.join(REPO, 'resources/zoo/keras');
    const names = ['vgg16', 'vgg19', 'resnet50', 'inception_v3', 'mobilenet'].flatMap((n) => [n, `${n}_notop`]);
    for (const name of names) {
      const doc = JSON.parse(readFileSync(path.join(dir, `${name}.json`), 'utf8')) as { modelConfig: unknown; weightCount: number };
      const model = readKerasModel(doc.modelConfig, (msg) => {
        throw new Error(`${name}: ${msg}`);
      });
      expect(model.layers.length, name).toBeGreaterThan(15);
      expect(model.outputs, name).toHaveLength(1);
    }
  });
});
