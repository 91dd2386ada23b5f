// Weights as PyTorch 2.13 really writes them (made by test/fixtures/torch-weights.py, cached outside
// the repository): external data from both exporters, a `.half()` export, and a ResNet-18 state
// dict as safetensors, each compared with onnxruntime-node running PyTorch's own ONNX export.
// Skipped, with the reason, where the fixtures were not made (no PyTorch on the machine).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/engine/backend';
import { loadModelFile } from '../../../src/main/engine/models/load';
import { TORCHVISION_CONVENTION } from '../../../src/main/engine/models/resnet18';
import type { InputConvention } from '../../../src/shared/domain';
import { floatToHalfBits } from '../../helpers/half';
import { randomArray } from './onnx-builder';
import { ortSession, relativeError, runOrt, toNCHW } from './reference';

const FIXTURES = path.join(process.env.ARTIPHYS_FIXTURES ?? path.join(os.homedir(), '.cache/artiphys-fixtures'), 'torch-weights');
const present = fs.existsSync(path.join(FIXTURES, 'resnet18.safetensors'));
if (!present) console.warn(`torch-weights tests skipped: no fixtures in ${FIXTURES} (make them with /work/venv/bin/python test/fixtures/torch-weights.py, which needs PyTorch)`);
const RAW: InputConvention = { channelOrder: 'RGB', scale: 255, mean: [0, 0, 0], std: [1, 1, 1], inputSize: 16 };

/** Our output and onnxruntime's for the same [1, 16, 16, 3] input; relative error. */
async function compareSmall(file: string, reference: (nchw: Float32Array) => Promise<Float32Array>): Promise<number> {
  const model = await loadModelFile(file, { inputConvention: RAW });
  try {
    const x = randomArray(16 * 16 * 3, 5, 2);
    const layer = model.layers.at(-1)!.name;
    const ours = tf.tidy(() => model.forward(tf.tensor4d(x, [1, 16, 16, 3]), [layer])[layer]);
    const ref = await reference(toNCHW(x, [1, 16, 16, 3]));
    const err = relativeError({ data: ours.dataSync() as Float32Array, shape: ours.shape }, { data: ref, dims: [1, ours.shape[3]!, ours.shape[1]!, ours.shape[2]!] });
    ours.dispose();
    console.log(`${path.relative(FIXTURES, file)}: relative error ${err.toExponential(2)}`);
    return err;
  } finally {
    model.dispose();
  }
}

async function runFile(file: string, input: ort.Tensor): Promise<ort.Tensor> {
  const session = await ort.InferenceSession.create(file);
  return (await session.run({ [session.inputNames[0]]: input }))[session.outputNames[0]];
}

describe.skipIf(!present)('weights as PyTorch writes them', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('external data from the classic exporter (every initializer outside) matches onnxruntime', async () => {
    const file = path.join(FIXTURES, 'external/net.onnx');
    const err = await compareSmall(file, async (x) => (await runFile(file, new ort.Tensor('float32', x, [1, 3, 16, 16]))).data as Float32Array);
    expect(err).toBeLessThan(1e-5);
  });

  it('external data from the dynamo exporter (external_data=True) matches onnxruntime', async () => {
    const file = path.join(FIXTURES, 'dynamo/net.onnx');
    const err = await compareSmall(file, async (x) => (await runFile(file, new ort.Tensor('float32', x, [1, 3, 16, 16]))).data as Float32Array);
    expect(err).toBeLessThan(1e-5);
  });

  it('a .half() export (float16 weights and input) computes in float32 what onnxruntime computes in float16, to float16 precision', async () => {
    const file = path.join(FIXTURES, 'half/net.onnx');
    const err = await compareSmall(file, async (x) => {
      // onnxruntime takes the float16 input as bit patterns: rounded to nearest from float32 here.
      const bits = Uint16Array.from(x, floatToHalfBits);
      const out = await runFile(file, new ort.Tensor('float16', bits, [1, 3, 16, 16]));
      return Float32Array.from(out.data as Uint16Array, halfBitsToFloat);
    });
    expect(err).toBeLessThan(5e-3);
  });

  it('a ResNet-18 state dict (safetensors) computes what onnxruntime computes from PyTorch\'s export of the same network', { timeout: 60_000 }, async () => {
    const model = await loadModelFile(path.join(FIXTURES, 'resnet18.safetensors'));
    const pixels = Float32Array.from(randomArray(64 * 64 * 3, 9, 127.5), (v) => v + 127.5);
    const ours = tf.tidy(() => model.forward(tf.tensor4d(pixels, [1, 64, 64, 3]), ['logits']).logits);
    const { mean, std } = TORCHVISION_CONVENTION;
    const normalized = pixels.map((v, i) => (v / 255 - mean[i % 3]) / std[i % 3]);
    const ref = await runOrt(await ortSession(path.join(FIXTURES, 'resnet18.onnx')), normalized, [1, 64, 64, 3], ['logits']);
    const err = relativeError({ data: ours.dataSync() as Float32Array, shape: ours.shape }, ref.logits);
    console.log(`resnet18.safetensors: relative error ${err.toExponential(2)}`);
    expect(err).toBeLessThan(1e-4);
    ours.dispose();
    model.dispose();
  });
});

/** float16 bits → float32, written out here so that the check does not use the reader's own table. */
function halfBitsToFloat(h: number): number {
  const exponent = (h >> 10) & 0x1f;
  const value = exponent === 0 ? (h & 0x3ff) * 2 ** -24 : (1 + (h & 0x3ff) / 1024) * 2 ** (exponent - 15);
  return h & 0x8000 ? -value : value;
}
