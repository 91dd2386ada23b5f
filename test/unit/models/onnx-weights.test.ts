// Weights as exporters store them besides float32: float16 / bfloat16 / float64 / small integer
// initializers (decoded as onnxruntime-node decodes them, computed in float32) and external data
// files beside the model (`torch.onnx.export(..., external_data=True)`), checked against
// onnxruntime-node reading the same files.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import onnxProto from 'onnx-proto';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/engine/backend';
import { parseOnnx } from '../../../src/main/engine/formats/onnx';
import type { GraphModel } from '../../../src/main/engine/graph/executor';
import { loadModelFile } from '../../../src/main/engine/models/load';
import type { InputConvention } from '../../../src/shared/domain';
import { tempDir } from '../../helpers/temp';
import { buildModel, float, int, ints, randomArray, randomHalfBits, weights, withExternalData, type InitSpec, type ModelSpec } from './onnx-builder';
import { ortSession, relativeError, runOrt } from './reference';

const { onnx } = onnxProto;
const T = onnx.TensorProto.DataType;
const RAW: InputConvention = { channelOrder: 'RGB', scale: 255, mean: [0, 0, 0], std: [1, 1, 1], inputSize: 12 };
const dir = tempDir();

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const half = (shape: number[], seed: number): InitSpec => ({ shape, dataType: T.FLOAT16, raw: bytesOf(randomHalfBits(shape.reduce((a, b) => a * b, 1), seed)) });

/** Conv → BN → Relu → Conv → GAP → Gemm, every weight in float16. */
const HALF_NET: ModelSpec = {
  nodes: [
    { op: 'Conv', inputs: ['x', 'w1', 'b1'], output: 'conv', attrs: { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) } },
    { op: 'BatchNormalization', inputs: ['conv', 'g', 'b', 'm', 'v'], output: 'bn', attrs: { epsilon: float(1e-5) } },
    { op: 'Relu', inputs: ['bn'], output: 'relu' },
    { op: 'Conv', inputs: ['relu', 'w2'], output: 'conv2', attrs: { strides: ints([2, 2]) } },
    { op: 'GlobalAveragePool', inputs: ['conv2'], output: 'gap' },
    { op: 'Flatten', inputs: ['gap'], output: 'flat' },
    { op: 'Gemm', inputs: ['flat', 'fc', 'fcb'], output: 'logits', attrs: { transB: int(1) } },
  ],
  inits: {
    w1: half([6, 3, 3, 3], 1), b1: half([6], 2), g: half([6], 3), b: half([6], 4), m: half([6], 5),
    // Variances must be positive: the sign bit cleared.
    v: { shape: [6], dataType: T.FLOAT16, raw: bytesOf(randomHalfBits(6, 6).map((h) => h & 0x7fff)) },
    w2: half([4, 6, 3, 3], 7), fc: half([5, 4], 8), fcb: half([5], 9),
  },
};

/**
 * The graph as ONNX types it for onnxruntime: each float16 initializer cast to float32 by a node
 * (onnxruntime does that decoding itself), the rest unchanged.
 */
function withCasts(spec: ModelSpec): ModelSpec {
  const halves = Object.keys(spec.inits ?? {}).filter((k) => 'raw' in spec.inits![k]);
  const cast = (name: string) => (halves.includes(name) ? `${name}_f32` : name);
  return {
    ...spec,
    nodes: [
      ...halves.map((k) => ({ op: 'Cast', inputs: [k], output: `${k}_f32`, attrs: { to: int(T.FLOAT) } })),
      ...spec.nodes.map((n) => ({ ...n, inputs: n.inputs.map(cast) })),
    ],
    outputs: spec.outputs ?? spec.nodes.flatMap((n) => n.output),
  };
}

/** Runs our model file and onnxruntime's (a file path or bytes) on the same [2, 12, 12, 3] input; worst relative error per output. */
async function compare(ours: string, reference: string | Uint8Array, outputs: string[]): Promise<Record<string, number>> {
  const model = (await loadModelFile(ours, { inputConvention: RAW })) as GraphModel;
  try {
    const shape = [2, 12, 12, 3];
    const x = randomArray(2 * 12 * 12 * 3, 99, 2);
    const ref = await runOrt(await ortSession(reference), x, shape, outputs);
    const out = tf.tidy(() => model.forward(tf.tensor4d(x, shape as [number, number, number, number]), outputs));
    const errors: Record<string, number> = {};
    for (const o of outputs) errors[o] = relativeError({ data: (await out[o].data()) as Float32Array, shape: out[o].shape }, ref[o]);
    tf.dispose(Object.values(out));
    return errors;
  } finally {
    model.dispose();
  }
}

function expectSmall(errors: Record<string, number>): void {
  for (const [name, err] of Object.entries(errors)) expect(err, name).toBeLessThan(1e-5);
}

function write(name: string, bytes: Uint8Array): string {
  const f = path.join(dir, name);
  mkdirSync(path.dirname(f), { recursive: true });
  writeFileSync(f, bytes);
  return f;
}

/** Equal as float32 values, NaN equal to NaN and -0 told from 0. */
function sameFloats(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let differ = 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(Math.fround(a[i]), Math.fround(b[i]))) differ++;
  return differ + Math.abs(a.length - b.length);
}

describe('weights in other element types', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('every float16 and bfloat16 bit pattern, float64, int8 and uint8 decode as onnxruntime decodes them', async () => {
    const every16 = bytesOf(Uint16Array.from({ length: 65536 }, (_, i) => i));
    const doubles = Float64Array.from([0, -0, 1 / 3, -1e-300, 1e300, 3.4e38, Math.PI, -7.25, Infinity, NaN]);
    const bytes256 = Uint8Array.from({ length: 256 }, (_, i) => i);
    const inits: Record<string, InitSpec> = {
      f16: { shape: [256, 256], dataType: T.FLOAT16, raw: every16 },
      bf16: { shape: [65536], dataType: T.BFLOAT16, raw: every16 },
      f64: { shape: [doubles.length], dataType: T.DOUBLE, raw: bytesOf(doubles) },
      i8: { shape: [256], dataType: T.INT8, raw: bytes256 },
      u8: { shape: [256], dataType: T.UINT8, raw: bytes256 },
    };
    const names = Object.keys(inits);
    const bytes = buildModel({ input: [1, 3, 2, 2], nodes: names.map((k) => ({ op: 'Cast', inputs: [k], output: `${k}_f32`, attrs: { to: int(T.FLOAT) } })), inits });
    const ref = await (await ortSession(bytes)).run(
      { x: new (await import('onnxruntime-node')).Tensor('float32', new Float32Array(12), [1, 3, 2, 2]) },
      names.map((k) => `${k}_f32`),
    );
    const ours = parseOnnx(bytes, 'element-types.onnx').initializers;
    for (const k of names) {
      const t = ours.get(k)!;
      expect(t.dtype, k).toBe(k.startsWith('i') || k.startsWith('u') ? 'int64' : 'float32');
      expect(t.shape, k).toEqual(inits[k].shape);
      expect(sameFloats(t.data, ref[`${k}_f32`].data as Float32Array), `${k}: values that differ from onnxruntime's`).toBe(0);
    }

    // The same float16 bits in int32_data (the typed field ONNX keeps 16-bit values in) decode alike.
    const typed = onnx.ModelProto.decode(bytes);
    const f16 = typed.graph!.initializer!.find((t) => t.name === 'f16')!;
    f16.int32Data = Array.from(new Uint16Array(every16.buffer));
    f16.rawData = new Uint8Array(0);
    const fromTyped = parseOnnx(onnx.ModelProto.encode(typed).finish(), 'typed.onnx').initializers.get('f16')!;
    expect(sameFloats(fromTyped.data, ours.get('f16')!.data)).toBe(0);
  });

  it('a network with float16 weights computes in float32 what onnxruntime computes from the same weights', async () => {
    const ours = write('half.onnx', buildModel(HALF_NET));
    expectSmall(await compare(ours, buildModel(withCasts(HALF_NET)), ['conv', 'relu', 'logits']));
  });

  it('a float16 Constant node feeds an Add like a float32 one', async () => {
    const spec: ModelSpec = {
      nodes: [
        { op: 'Constant', inputs: [], output: 'c', attrs: { value: { t: half([1, 3, 1, 1], 11) } } },
        { op: 'Add', inputs: ['x', 'c'], output: 'sum' },
      ],
    };
    const reference: ModelSpec = {
      nodes: [spec.nodes[0], { op: 'Cast', inputs: ['c'], output: 'c32', attrs: { to: int(T.FLOAT) } }, { op: 'Add', inputs: ['x', 'c32'], output: 'sum' }],
      outputs: ['sum'],
    };
    expectSmall(await compare(write('half-constant.onnx', buildModel(spec)), buildModel(reference), ['sum']));
  });
});

describe('external data', () => {
  beforeAll(async () => {
    await initBackend();
  });

  const FLOAT_NET: ModelSpec = {
    ...HALF_NET,
    inits: {
      w1: weights([6, 3, 3, 3], 1), b1: weights([6], 2), g: weights([6], 3), b: weights([6], 4), m: weights([6], 5),
      v: { shape: [6], floats: randomArray(6, 6).map((v) => 1 + Math.abs(v)) }, w2: weights([4, 6, 3, 3], 7), fc: weights([5, 4], 8), fcb: weights([5], 9),
    },
  };

  it('weights in a file beside the model, or in a subfolder, load as onnxruntime loads them', async () => {
    for (const location of ['net.onnx.data', 'weights/net.bin']) {
      const folder = `ext-${location.replace(/\W/g, '-')}`;
      const { model, data } = withExternalData(buildModel(FLOAT_NET), location);
      const file = write(`${folder}/net.onnx`, model);
      write(`${folder}/${location}`, data);
      expect(parseOnnx(model, file, { externalDataDir: path.dirname(file) }).initializers.get('w2')?.data).toEqual(randomArray(4 * 6 * 3 * 3, 7, 0.5));
      // onnxruntime reads the external file itself, relative to the model's path.
      expectSmall(await compare(file, file, ['conv', 'relu', 'logits']));
    }
  });

  it('float16 weights in an external file', async () => {
    const { model, data } = withExternalData(buildModel(HALF_NET), 'half.data');
    const file = write('ext-half/net.onnx', model);
    write('ext-half/half.data', data);
    expectSmall(await compare(file, buildModel(withCasts(HALF_NET)), ['logits']));
  });
});
