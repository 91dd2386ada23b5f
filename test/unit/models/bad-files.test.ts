// Bad model files end in a clear ModelFormatError (naming the problem) and never in a crash, a
// hang, a giant allocation or leaked tensors; a fuzz run loads 1,000 mutated small ONNX files.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/engine/backend';
import { ModelFormatError } from '../../../src/main/engine/errors';
import { loadModelFile } from '../../../src/main/engine/models/load';
import { tempDir } from '../../helpers/temp';
import { buildModel, float, int, ints, randomArray, weights, type ModelSpec } from './onnx-builder';
import { SAMPLES, VGG_FILE } from './reference';

const dir = tempDir();
let count = 0;
function file(bytes: Uint8Array | string, ext = '.onnx'): string {
  const f = path.join(dir, `model-${count++}${ext}`);
  writeFileSync(f, bytes);
  return f;
}

async function loadError(f: string): Promise<Error> {
  const err = await loadModelFile(f).then(
    (m) => {
      m.dispose();
      return null;
    },
    (e: Error) => e,
  );
  if (!err) throw new Error(`${f} loaded`);
  return err;
}

async function expectFormatError(bytes: Uint8Array | string, message: RegExp, ext?: string): Promise<void> {
  const err = await loadError(file(bytes, ext));
  expect(err).toBeInstanceOf(ModelFormatError);
  expect(err.message).toMatch(message);
}

/** A small valid model touching the main operators; its metadata makes 16 px the usual input. */
const SMALL: ModelSpec = {
  nodes: [
    { op: 'Conv', inputs: ['x', 'w1', 'b1'], output: 'conv', attrs: { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) } },
    { op: 'BatchNormalization', inputs: ['conv', 'g', 'b', 'm', 'v'], output: 'bn', attrs: { epsilon: float(1e-5) } },
    { op: 'Relu', inputs: ['bn'], output: 'relu' },
    { op: 'MaxPool', inputs: ['relu'], output: 'pool', attrs: { kernel_shape: ints([2, 2]), strides: ints([2, 2]) } },
    { op: 'Conv', inputs: ['pool', 'w2'], output: 'conv2', attrs: { group: int(2), strides: ints([2, 2]) } },
    { op: 'GlobalAveragePool', inputs: ['conv2'], output: 'gap' },
    { op: 'Flatten', inputs: ['gap'], output: 'flat' },
    { op: 'Gemm', inputs: ['flat', 'fc', 'fcb'], output: 'logits', attrs: { transB: int(1) } },
  ],
  inits: {
    w1: weights([4, 3, 3, 3], 1), b1: weights([4], 2), g: weights([4], 3), b: weights([4], 4), m: weights([4], 5),
    v: { shape: [4], floats: [1, 2, 3, 4] }, w2: weights([4, 2, 3, 3], 6), fc: weights([5, 4], 7), fcb: weights([5], 8),
  },
  metadata: { 'artiphys.input_convention': JSON.stringify({ channelOrder: 'RGB', scale: 255, mean: [0, 0, 0], std: [1, 1, 1], inputSize: 16 }) },
};

describe('bad model files', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('truncated, random bytes, empty: not a valid ONNX file', async () => {
    const vgg = readFileSync(VGG_FILE);
    await expectFormatError(vgg.subarray(0, vgg.length >> 1), /not a valid ONNX file/);
    await expectFormatError(buildModel(SMALL).subarray(0, 300), /not a valid ONNX file/);
    await expectFormatError(Uint8Array.from(randomArray(4096, 5, 128), (v) => v + 128), /not a model file|not a valid ONNX/);
    await expectFormatError(new Uint8Array(0), /is empty/);
  });

  it('wrong extension: the content decides; images, Keras and TF.js files are named as such', async () => {
    const ok = await loadModelFile(file(buildModel(SMALL), '.h5'));
    expect(ok.layers.map((l) => l.name)).toContain('logits');
    ok.dispose();
    await expectFormatError(readFileSync(path.join(SAMPLES, 'n01440764_tench.JPEG')), /JPEG image/);
    await expectFormatError(Uint8Array.of(0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0), /Keras HDF5.*not supported yet/, '.h5');
    await expectFormatError(JSON.stringify({ modelTopology: {}, weightsManifest: [] }), /TensorFlow\.js.*not supported yet/, '.json');
    await expect(loadModelFile(path.join(dir, 'missing.onnx'))).rejects.toThrow(/no such file/);
  });

  it('an unsupported operator is named with its node', async () => {
    const spec: ModelSpec = { ...SMALL, nodes: [...SMALL.nodes, { op: 'Resize', inputs: ['relu'], output: 'up' }] };
    await expectFormatError(buildModel(spec), /node resize_8 \(Resize\): operator "Resize" is not supported/);
  });

  it('huge, negative or inconsistent dimensions are refused before anything is allocated', async () => {
    const init = (shape: number[], floats: ArrayLike<number> = []) => ({ ...SMALL, inits: { ...SMALL.inits, w1: { shape, floats } } });
    await expectFormatError(buildModel(init([1e6, 1e6, 3, 3])), /initializer "w1" has huge dimensions/);
    await expectFormatError(buildModel(init([4, -3, 3, 3])), /initializer "w1" has a negative dimension/);
    await expectFormatError(buildModel(init([4, 3, 3, 3], new Float32Array(10))), /initializer "w1" has shape \[4, 3, 3, 3\] \(108 values\) but holds 10/);
    // Weights of normal size whose output would be enormous at the usual input size (4096 px).
    const convention = JSON.stringify({ channelOrder: 'RGB', scale: 255, mean: [0, 0, 0], std: [1, 1, 1], inputSize: 4096 });
    const wide = { ...SMALL, inits: { ...SMALL.inits, w1: weights([32, 3, 3, 3], 1), b1: weights([32], 2) }, metadata: { 'artiphys.input_convention': convention } };
    await expectFormatError(buildModel(wide), /node conv_0 \(Conv\): output shape \[1, 32, 4096, 4096\] is invalid or huge/);
    await expectFormatError(buildModel({ ...SMALL, input: [1, 3, 1e9, 16] }), /impossible dimension 1000000000/);
    await expectFormatError(buildModel({ ...SMALL, input: [1, 4, 16, 16] }), /expected an RGB image batch/);
  });

  it('broken graphs: missing tensors, cycles, wrong weights, bad attributes', async () => {
    const nodes = (edit: (n: ModelSpec['nodes']) => ModelSpec['nodes']) => buildModel({ ...SMALL, nodes: edit([...SMALL.nodes]) });
    await expectFormatError(nodes((n) => [{ ...n[0], inputs: ['x', 'nope'] }, ...n.slice(1)]), /reads "nope", which nothing defines/);
    await expectFormatError(nodes((n) => [{ ...n[0], inputs: ['relu', 'w1'] }, ...n.slice(1)]), /cycle/);
    await expectFormatError(nodes((n) => [{ ...n[0], inputs: ['x', 'w2'] }, ...n.slice(1)]), /do not fit an input of 3 channels/);
    await expectFormatError(nodes((n) => [{ ...n[0], attrs: { strides: ints([0, 1]) } }, ...n.slice(1)]), /strides value 0 is out of range/);
    await expectFormatError(nodes((n) => [...n.slice(0, 3), { ...n[3], attrs: {} }, ...n.slice(4)]), /MaxPool\): attribute kernel_shape is missing/);
  });
});

/** One random edit of the bytes: overwrite, truncate, delete or duplicate a stretch. */
function mutate(bytes: Uint8Array, rand: () => number): Uint8Array {
  const pick = (n: number) => Math.floor(rand() * n);
  const at = pick(bytes.length);
  switch (pick(4)) {
    case 0: {
      const out = bytes.slice();
      for (let k = 0, n = 1 + pick(4); k < n; k++) out[pick(out.length)] = pick(256);
      return out;
    }
    case 1:
      return bytes.slice(0, at);
    case 2:
      return Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at + 1 + pick(16))]);
    default: {
      const len = 1 + pick(16);
      return Uint8Array.from([...bytes.subarray(0, at + len), ...bytes.subarray(at, at + len), ...bytes.subarray(at + len)]);
    }
  }
}

describe('fuzzing with mutated small ONNX files', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('1,000 mutated files: each loads or gives a ModelFormatError, quickly, leaking no tensors', async () => {
    // A plain copy: protobufjs hands out a Buffer, whose slice() would share memory.
    const base = Uint8Array.from(buildModel(SMALL));
    let state = 12345;
    const rand = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const before = tf.memory().numTensors;
    const outcomes = { loaded: 0, rejected: 0 };
    let slowest = 0;
    for (let i = 0; i < 1000; i++) {
      const bytes = mutate(base, rand);
      const f = file(bytes);
      const started = performance.now();
      try {
        const model = await loadModelFile(f);
        // A model that loads must also run at its usual input size.
        const size = model.inputConvention.inputSize;
        tf.tidy(() => {
          const out = model.forward(tf.zeros([1, size, size, 3]), [model.layers[model.layers.length - 1].name]);
          Object.values(out).forEach((t) => t.dataSync());
        });
        model.dispose();
        outcomes.loaded++;
      } catch (err) {
        if (!(err instanceof ModelFormatError)) throw new Error(`mutation ${i} (${f}) threw ${String(err)}`);
        outcomes.rejected++;
      }
      slowest = Math.max(slowest, performance.now() - started);
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(outcomes.loaded).toBeGreaterThan(0);
    expect(outcomes.rejected).toBeGreaterThan(0);
    expect(slowest).toBeLessThan(5000);
  });
});
