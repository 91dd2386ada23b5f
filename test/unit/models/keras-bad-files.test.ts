// Damaged or unsupported Keras H5 files and TensorFlow.js layers models end in one
// ModelFormatError naming the file and the problem, never in a crash, a hang or another error;
// a fuzz run loads mutated copies of the small fixtures.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/engine/backend';
import { ModelFormatError } from '../../../src/main/engine/errors';
import { loadOutcome } from './load-error';
import { tempDir } from '../../helpers/temp';
import { REPO } from './reference';

const KERAS_FIXTURES = path.join(REPO, 'test/fixtures/keras');

const dir = tempDir();
let count = 0;
const TINY_H5 = readFileSync(path.join(KERAS_FIXTURES, 'tiny.h5'));
const TFJS_JSON = readFileSync(path.join(KERAS_FIXTURES, 'tiny-tfjs/model.json'), 'utf8');
const SHARD = 'group1-shard1of1.bin';

/** A fresh folder holding `model.json` (as given) and, unless left out, the shard (possibly cut). */
function tfjsModel(json: string, shard: Uint8Array | null = readFileSync(path.join(KERAS_FIXTURES, 'tiny-tfjs', SHARD))): string {
  const folder = path.join(dir, `tfjs-${count++}`);
  mkdirSync(folder);
  writeFileSync(path.join(folder, 'model.json'), json);
  if (shard) writeFileSync(path.join(folder, SHARD), shard);
  return path.join(folder, 'model.json');
}

function h5(bytes: Uint8Array): string {
  const f = path.join(dir, `model-${count++}.h5`);
  writeFileSync(f, bytes);
  return f;
}

async function expectFormatError(f: string, message: RegExp): Promise<void> {
  const err = await loadOutcome(f);
  expect(err, `${f} loaded`).toBeInstanceOf(ModelFormatError);
  expect(err!.message).toContain(f);
  expect(err!.message).toMatch(message);
}

function editedJson(edit: (doc: { modelTopology: { model_config: { config: { layers: { class_name: string }[] } } }; weightsManifest?: unknown }) => void): string {
  const doc = JSON.parse(TFJS_JSON);
  edit(doc);
  return JSON.stringify(doc);
}

describe('bad Keras files', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('truncated H5 files: unreadable, or weights beyond the end', async () => {
    for (const cut of [8, 100, 1000, TINY_H5.length >> 1, TINY_H5.length - 100]) {
      await expectFormatError(h5(TINY_H5.subarray(0, cut)), /HDF5|truncated|beyond the end/);
    }
  });

  it('H5 files without Keras weights, or with weights of an unknown architecture', async () => {
    await expectFormatError(path.join(KERAS_FIXTURES, 'not-keras.h5'), /no Keras weights \(no layer_names attribute\)/);
    await expectFormatError(path.join(KERAS_FIXTURES, 'keras3.weights.h5'), /Keras 3 weights file \(\.weights\.h5\), which is not supported/);
    await expectFormatError(path.join(KERAS_FIXTURES, 'weights-only.h5'), /holds only weights \(\d+ weighted layers, no model_config\).*match none of the known architectures \(.*resnet50/);
  });

  it('an unknown layer class names the layer and the supported classes', async () => {
    const json = editedJson((d) => (d.modelTopology.model_config.config.layers[3].class_name = 'LSTM'));
    await expectFormatError(tfjsModel(json), /layer \w+ \(LSTM\): the layer class is not supported \(supported: InputLayer, Conv2D/);
  });

  it('model.json without weightsManifest, missing or short shard, shard path outside the folder', async () => {
    await expectFormatError(tfjsModel(editedJson((d) => delete d.weightsManifest)), /no weightsManifest, so its weights are missing/);
    await expectFormatError(tfjsModel(TFJS_JSON, null), /shard file group1-shard1of1\.bin of weight group 0 is missing/);
    const shard = readFileSync(path.join(KERAS_FIXTURES, 'tiny-tfjs', SHARD));
    await expectFormatError(tfjsModel(TFJS_JSON, shard.subarray(0, shard.length - 4)), /hold \d+ bytes, but its weights need \d+/);
    const escaping = editedJson((d) => ((d.weightsManifest as { paths: string[] }[])[0].paths = ['../secret.bin']));
    await expectFormatError(tfjsModel(escaping), /invalid shard path "\.\.\/secret\.bin"/);
    await expectFormatError(tfjsModel('{"modelTopology": {"class_name": "Model", "config": '), /not valid JSON/);
  });

  it('a missing weight names the layer and the weights there are', async () => {
    const json = editedJson((d) => ((d.weightsManifest as { weights: { name: string }[] }[])[0].weights[1].name = 'conv_s2/offset'));
    await expectFormatError(tfjsModel(json), /layer conv_s2 \(Conv2D\): weight "bias" is missing \(the file has kernel, offset\)/);
  });
});

/** Overwrites a few random bytes, or cuts the file short. */
function mutate(bytes: Uint8Array, rand: () => number): Uint8Array {
  const out = Uint8Array.from(bytes);
  if (rand() < 0.1) return out.subarray(0, Math.floor(rand() * out.length));
  const n = 1 + Math.floor(rand() * 8);
  for (let i = 0; i < n; i++) out[Math.floor(rand() * out.length)] = Math.floor(rand() * 256);
  return out;
}

function seeded(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

describe('fuzzing Keras readers with mutated small files', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('300 mutated H5 files and 100 mutated model.json files: each loads or gives a ModelFormatError, leaking no tensors', { timeout: 120_000 }, async () => {
    const rand = seeded(13);
    const before = tf.memory().numTensors;
    const files = [
      ...Array.from({ length: 300 }, () => h5(mutate(TINY_H5, rand))),
      ...Array.from({ length: 100 }, () => tfjsModel(Buffer.from(mutate(Buffer.from(TFJS_JSON), rand)).toString('latin1'))),
    ];
    let refused = 0;
    for (const f of files) {
      const err = await loadOutcome(f);
      if (err && !(err instanceof ModelFormatError)) throw new Error(`${f} threw ${String(err)}`, { cause: err });
      if (err) refused++;
    }
    expect(refused).toBeGreaterThan(50);
    expect(tf.memory().numTensors).toBe(before);
  });
});
