// Real PyTorch exports with a dynamic batch (classic exporter with dynamic_axes, and the dynamo
// exporter at opset 18) load, and match onnxruntime-node at batch 1 and 3 and at two image
// sizes. The files are made by test/fixtures/make-dynamic-batch-fixtures.py where PyTorch is
// installed; without them the tests report skipped with that reason.
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/engine/backend';
import type { GraphModel } from '../../../src/main/engine/graph/executor';
import { loadModelFile } from '../../../src/main/engine/models/load';
import type { InputConvention } from '../../../src/shared/domain';
import { tempDir } from '../../helpers/temp';
import { buildModel, randomArray } from './onnx-builder';
import { ortSession, relativeError, runOrt } from './reference';

const FIXTURES = process.env.ARTIPHYS_FIXTURES ?? path.join(os.homedir(), '.cache', 'artiphys-fixtures');
const RAW: InputConvention = { channelOrder: 'RGB', scale: 255, mean: [0, 0, 0], std: [1, 1, 1], inputSize: 16 };
const STATIC_SIZE: [number, number][] = [
  [1, 16],
  [3, 16],
];
/**
 * Each fixture with the (batch, size) it runs at: dynbatch-cnn-classic has a dynamic image size
 * too (16 and 20 px both pool to the 2 x 2 grid its linear head takes); the others a dynamic
 * batch only.
 */
const FIXTURE_GEOMETRIES: [string, string, [number, number][]][] = [
  ['dynbatch-cnn-classic', 'x.view(x.size(0), -1), an offset expanded to the batch, dynamic image size', [...STATIC_SIZE, [3, 20]]],
  ['dynbatch-cnn-dynamo', 'x.view(x.size(0), -1), an offset expanded to the batch', STATIC_SIZE],
  ['token-cnn-classic', 'a class token expanded to the batch and concatenated, torch.flatten', STATIC_SIZE],
  ['token-cnn-dynamo', 'a class token expanded to the batch and concatenated, torch.flatten', STATIC_SIZE],
];

describe('PyTorch exports with a dynamic batch match onnxruntime-node', () => {
  beforeAll(async () => {
    await initBackend();
  });

  for (const [name, what, geometries] of FIXTURE_GEOMETRIES) {
    const file = path.join(FIXTURES, `${name}.onnx`);
    it(`${name}: ${what}`, async (ctx) => {
      if (!existsSync(file)) ctx.skip(`${file} is absent (made by test/fixtures/make-dynamic-batch-fixtures.py where PyTorch is installed)`);
      const model = (await loadModelFile(file, { inputConvention: RAW })) as GraphModel;
      const session = await ortSession(file);
      try {
        for (const [n, size] of geometries) {
          const shape = [n, size, size, 3];
          const x = randomArray(n * size * size * 3, n + size, 2);
          const ref = await runOrt(session, x, shape, ['logits']);
          const ours = tf.tidy(() => model.forward(tf.tensor4d(x, shape as [number, number, number, number]), ['logits']).logits);
          const err = relativeError({ data: (await ours.data()) as Float32Array, shape: ours.shape }, ref.logits);
          ours.dispose();
          expect(err, `batch ${n}, ${size} px`).toBeLessThan(1e-5);
        }
      } finally {
        model.dispose();
      }
    });
  }

  it('fields newer than the reader knows (IR 10 metadata_props, as the dynamo exporter writes) are skipped', async () => {
    // A length-delimited field 30 appended to the ModelProto: tag (30 << 3) | 2, length 3, "new".
    const bytes = Uint8Array.from([...buildModel({ nodes: [{ op: 'Relu', inputs: ['x'], output: 'y' }] }), 0xf2, 0x01, 3, 0x6e, 0x65, 0x77]);
    const file = path.join(tempDir(), 'unknown-field.onnx');
    writeFileSync(file, bytes);
    const model = await loadModelFile(file, { inputConvention: RAW });
    expect(model.layers.map((l) => l.name)).toEqual(['y']);
    model.dispose();
  });
});
