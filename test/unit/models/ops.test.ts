// Every supported operator, in the configurations exported CNNs use (groups, depthwise, dilations,
// asymmetric pads, auto_pad, ceil_mode, count_include_pad, broadcasting, old and new opsets),
// checked against onnxruntime-node on small graphs with random weights and non-square inputs.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/engine/backend';
import type { GraphModel } from '../../../src/main/engine/graph/executor';
import { loadModelFile } from '../../../src/main/engine/models/load';
import type { InputConvention } from '../../../src/shared/domain';
import { tempDir } from '../../helpers/temp';
import { buildModel, float, int, ints, randomArray, str, tensorAttr, weights, type ModelSpec } from './onnx-builder';
import { ortSession, relativeError, runOrt } from './reference';

/** Pixels pass through unchanged, so both runtimes see the same input. */
const RAW: InputConvention = { channelOrder: 'RGB', scale: 255, mean: [0, 0, 0], std: [1, 1, 1], inputSize: 13 };
const dir = tempDir();
let count = 0;

/** Runs the model in both runtimes on a [2, h, w, 3] input; returns the worst relative error per output. */
async function compare(spec: ModelSpec, h = 13, w = 10): Promise<Record<string, number>> {
  const bytes = buildModel(spec);
  const file = path.join(dir, `case-${count++}.onnx`);
  writeFileSync(file, bytes);
  // Graphs whose constants fit one input size only are square; the usual size is then that size.
  const model = (await loadModelFile(file, { inputConvention: { ...RAW, inputSize: h } })) as GraphModel;
  try {
    const outputs = spec.outputs ?? spec.nodes.filter((n) => n.op !== 'Constant').flatMap((n) => n.output);
    const shape = [2, h, w, 3];
    const x = randomArray(2 * h * w * 3, 99, 2);
    const ref = await runOrt(await ortSession(bytes), x, shape, outputs);
    const shapes = model.layerShapesAt(h, w);
    const ours = tf.tidy(() => model.forward(tf.tensor4d(x, shape as [number, number, number, number]), outputs));
    const errors: Record<string, number> = {};
    for (const o of outputs) {
      const dims = ref[o].dims;
      // Shape inference must predict what both runtimes compute.
      expect(shapes.get(o), o).toEqual(dims.length === 4 ? [dims[2], dims[3], dims[1]] : dims.slice(1));
      errors[o] = relativeError({ data: (await ours[o].data()) as Float32Array, shape: ours[o].shape }, ref[o]);
    }
    tf.dispose(Object.values(ours));
    return errors;
  } finally {
    model.dispose();
  }
}

async function expectMatch(spec: ModelSpec, h?: number, w?: number): Promise<void> {
  const errors = await compare(spec, h, w);
  for (const [name, err] of Object.entries(errors)) expect(err, name).toBeLessThan(1e-4);
}

/** A 3 → c conv that gives the later ops more channels to work on. */
const widen = (c: number, out = 'a'): Pick<ModelSpec, 'nodes' | 'inits'> => ({
  nodes: [{ op: 'Conv', inputs: ['x', 'wa', 'ba'], output: out, attrs: { kernel_shape: ints([1, 1]) } }],
  inits: { wa: weights([c, 3, 1, 1], 1), ba: weights([c], 2) },
});

function chain(c: number, nodes: ModelSpec['nodes'], inits: ModelSpec['inits'] = {}, opset?: number): ModelSpec {
  const w = widen(c);
  return { nodes: [...w.nodes, ...nodes], inits: { ...w.inits, ...inits }, opset };
}

describe('operators match onnxruntime-node', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('Conv: strides, asymmetric pads, dilations (with and without stride), bias', async () => {
    await expectMatch(
      chain(4, [
        { op: 'Conv', inputs: ['a', 'w1', 'b1'], output: 'c1', attrs: { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 0, 2, 1]) } },
        { op: 'Conv', inputs: ['a', 'w2'], output: 'c2', attrs: { dilations: ints([2, 2]), pads: ints([2, 2, 2, 2]) } },
        { op: 'Conv', inputs: ['a', 'w2'], output: 'c3', attrs: { dilations: ints([2, 1]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) } },
        { op: 'Conv', inputs: ['a', 'w4'], output: 'c4', attrs: { pads: ints([2, 1, 2, 1]) } },
      ], { w1: weights([5, 4, 3, 3], 3), b1: weights([5], 4), w2: weights([6, 4, 3, 3], 5), w4: weights([3, 4, 5, 3], 6) }),
    );
  });

  it('Identity over an initializer (shared equal weights of untrained exports) is the constant itself', async () => {
    const spec = chain(4, [
      { op: 'Identity', inputs: ['w1'], output: 'w1_copy' },
      { op: 'Identity', inputs: ['b1'], output: 'b1_copy' },
      { op: 'Conv', inputs: ['a', 'w1', 'b1'], output: 'c1', attrs: { kernel_shape: ints([3, 3]) } },
      { op: 'Conv', inputs: ['a', 'w1_copy', 'b1_copy'], output: 'c2', attrs: { kernel_shape: ints([3, 3]) } },
    ], { w1: weights([5, 4, 3, 3], 3), b1: weights([5], 4) });
    await expectMatch({ ...spec, outputs: ['c1', 'c2'] });
  });

  it('Conv: auto_pad SAME_UPPER, SAME_LOWER and VALID with even kernels and strides', async () => {
    const w = { w: weights([4, 4, 4, 4], 7) };
    await expectMatch(
      chain(4, [
        { op: 'Conv', inputs: ['a', 'w'], output: 'up', attrs: { auto_pad: str('SAME_UPPER'), strides: ints([2, 2]) } },
        { op: 'Conv', inputs: ['a', 'w'], output: 'low', attrs: { auto_pad: str('SAME_LOWER'), strides: ints([2, 2]) } },
        { op: 'Conv', inputs: ['a', 'w'], output: 'same1', attrs: { auto_pad: str('SAME_UPPER') } },
        { op: 'Conv', inputs: ['a', 'w'], output: 'valid', attrs: { auto_pad: str('VALID'), strides: ints([1, 2]) } },
      ], w),
    );
  });

  it('Conv: depthwise (with multiplier) and grouped', async () => {
    await expectMatch(
      chain(6, [
        { op: 'Conv', inputs: ['a', 'dw', 'db'], output: 'depthwise', attrs: { group: int(6), pads: ints([1, 1, 1, 1]), strides: ints([2, 2]) } },
        { op: 'Conv', inputs: ['a', 'gw'], output: 'grouped', attrs: { group: int(3), pads: ints([0, 1, 0, 1]) } },
        { op: 'Conv', inputs: ['a', 'dw1'], output: 'depthwise1', attrs: { group: int(6), dilations: ints([2, 2]) } },
      ], { dw: weights([12, 1, 3, 3], 8), db: weights([12], 9), gw: weights([9, 2, 3, 3], 10), dw1: weights([6, 1, 3, 3], 11) }),
    );
  });

  it('Conv → BatchNormalization → Relu chains, run fused when only their ends are asked for', async () => {
    const bn = (c: number, seed: number) => ({
      [`g${seed}`]: weights([c], seed, 2), [`b${seed}`]: weights([c], seed + 1), [`m${seed}`]: weights([c], seed + 2),
      [`v${seed}`]: { shape: [c], floats: Array.from({ length: c }, (_, i) => 0.5 + i) },
    });
    const bnInputs = (x: string, seed: number) => [x, `g${seed}`, `b${seed}`, `m${seed}`, `v${seed}`];
    const spec = chain(6, [
      { op: 'Conv', inputs: ['a', 'w1', 'c1'], output: 'conv1', attrs: { pads: ints([1, 1, 1, 1]), strides: ints([2, 2]) } },
      { op: 'BatchNormalization', inputs: bnInputs('conv1', 60), output: 'bn1' },
      { op: 'Relu', inputs: ['bn1'], output: 'relu1' },
      { op: 'Conv', inputs: ['relu1', 'dw'], output: 'conv2', attrs: { group: int(4), pads: ints([1, 1, 1, 1]) } },
      { op: 'BatchNormalization', inputs: bnInputs('conv2', 70), output: 'bn2' },
      { op: 'Conv', inputs: ['bn2', 'gw'], output: 'conv3', attrs: { group: int(2) } },
      { op: 'Relu', inputs: ['conv3'], output: 'relu3' },
      { op: 'Add', inputs: ['relu3', 'bn2'], output: 'sum' },
    ], { w1: weights([4, 6, 3, 3], 61), c1: weights([4], 62), dw: weights([8, 1, 3, 3], 63), gw: weights([8, 4, 1, 1], 64), ...bn(4, 60), ...bn(8, 70) });
    await expectMatch({ ...spec, outputs: ['sum'] });
    await expectMatch({ ...spec, outputs: ['bn1', 'sum'] });
  });

  it('ConvTranspose: strides, pads, output_padding, dilations, groups, bias', async () => {
    await expectMatch(
      chain(4, [
        { op: 'ConvTranspose', inputs: ['a', 'w1', 'b1'], output: 't1', attrs: { strides: ints([2, 2]), pads: ints([1, 0, 0, 1]), output_padding: ints([1, 0]) } },
        { op: 'ConvTranspose', inputs: ['a', 'w2'], output: 't2', attrs: { dilations: ints([2, 2]), pads: ints([1, 1, 1, 1]) } },
        { op: 'ConvTranspose', inputs: ['a', 'w3'], output: 't3', attrs: { group: int(2), strides: ints([3, 2]), kernel_shape: ints([3, 2]) } },
      ], { w1: weights([4, 3, 3, 3], 12), b1: weights([3], 13), w2: weights([4, 2, 3, 3], 14), w3: weights([4, 2, 3, 2], 15) }),
    );
  });

  it('MaxPool and AveragePool: pads, ceil_mode, count_include_pad, SAME', async () => {
    const k3s2p1 = { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) };
    await expectMatch(
      chain(3, [
        { op: 'MaxPool', inputs: ['a'], output: 'max', attrs: k3s2p1 },
        { op: 'MaxPool', inputs: ['a'], output: 'maxCeil', attrs: { kernel_shape: ints([2, 3]), strides: ints([2, 2]), ceil_mode: int(1) } },
        { op: 'MaxPool', inputs: ['a'], output: 'maxSame', attrs: { kernel_shape: ints([2, 2]), strides: ints([2, 2]), auto_pad: str('SAME_UPPER') } },
        { op: 'AveragePool', inputs: ['a'], output: 'avgExcl', attrs: k3s2p1 },
        { op: 'AveragePool', inputs: ['a'], output: 'avgIncl', attrs: { ...k3s2p1, count_include_pad: int(1) } },
        { op: 'AveragePool', inputs: ['a'], output: 'avgCeil', attrs: { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 0, 1, 0]), ceil_mode: int(1) } },
        { op: 'AveragePool', inputs: ['a'], output: 'avgCeilIncl', attrs: { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 0, 0]), ceil_mode: int(1), count_include_pad: int(1) } },
        { op: 'GlobalAveragePool', inputs: ['a'], output: 'gap' },
      ]),
      15,
      12,
    );
  });

  it('BatchNormalization, LRN and activations', async () => {
    const c = 5;
    await expectMatch(
      chain(c, [
        { op: 'BatchNormalization', inputs: ['a', 'g', 'b', 'm', 'v'], output: 'bn', attrs: { epsilon: float(1e-3) } },
        { op: 'LRN', inputs: ['bn'], output: 'lrn5', attrs: { size: int(5), alpha: float(0.01), beta: float(0.75), bias: float(2) } },
        { op: 'Relu', inputs: ['bn'], output: 'relu' },
        { op: 'LeakyRelu', inputs: ['bn'], output: 'leaky', attrs: { alpha: float(0.2) } },
        { op: 'Sigmoid', inputs: ['bn'], output: 'sigmoid' },
        { op: 'Tanh', inputs: ['bn'], output: 'tanh' },
        { op: 'Clip', inputs: ['bn', 'lo', 'hi'], output: 'clip' },
        { op: 'Clip', inputs: ['bn', '', 'hi'], output: 'clipHi' },
        { op: 'Identity', inputs: ['clip'], output: 'identity' },
        { op: 'Dropout', inputs: ['identity'], output: 'dropout' },
      ], {
        g: weights([c], 20, 2), b: weights([c], 21), m: weights([c], 22), v: { shape: [c], floats: [0.5, 1, 2, 3, 0.1] },
        lo: { shape: [], floats: [-0.3] }, hi: { shape: [], floats: [0.4] },
      }),
    );
  });

  it('LRN with an even size (which onnxruntime refuses) follows the ONNX formula', async () => {
    const file = path.join(dir, 'lrn4.onnx');
    const [size, alpha, beta, bias] = [4, 0.3, 0.75, 1.5];
    const lrnAttrs = { size: int(size), alpha: float(alpha), beta: float(beta), bias: float(bias) };
    writeFileSync(file, buildModel(chain(6, [{ op: 'LRN', inputs: ['a'], output: 'lrn', attrs: lrnAttrs }])));
    const model = await loadModelFile(file, { inputConvention: { ...RAW, inputSize: 5 } });
    const out = tf.tidy(() => model.forward(tf.tensor4d(randomArray(5 * 5 * 3, 7, 2), [1, 5, 5, 3]), ['a', 'lrn']));
    const a = await out.a.data();
    const lrn = await out.lrn.data();
    // Channels c - floor((size-1)/2) .. c + ceil((size-1)/2), i.e. c-1 .. c+2 for size 4.
    for (let p = 0; p < 25; p++) {
      for (let c = 0; c < 6; c++) {
        let sum = 0;
        for (let k = Math.max(0, c - 1); k <= Math.min(5, c + 2); k++) sum += a[p * 6 + k] ** 2;
        const expected = a[p * 6 + c] / (bias + (alpha / size) * sum) ** beta;
        expect(lrn[p * 6 + c]).toBeCloseTo(expected, 5);
      }
    }
    tf.dispose(Object.values(out));
    model.dispose();
  });

  describe('input gradients agree with central finite differences at every pixel', () => {
    const cases: [string, ModelSpec['nodes'], ModelSpec['inits'], number][] = [
      ['edge Pad', [{ op: 'Pad', inputs: ['x', 'p'], output: 'y', attrs: { mode: str('edge') } }], { p: { shape: [8], int64s: [0, 0, 1, 2, 0, 0, 2, 1] } }, 1e-2],
      ['reflect Pad', [{ op: 'Pad', inputs: ['x', 'p'], output: 'y', attrs: { mode: str('reflect') } }], { p: { shape: [8], int64s: [0, 0, 1, 2, 0, 0, 2, 1] } }, 1e-2],
      // A small step keeps the max of each window from switching.
      ['MaxPool', [{ op: 'MaxPool', inputs: ['x'], output: 'y', attrs: { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]), ceil_mode: int(1) } }], {}, 1e-3],
      ['AveragePool', [{ op: 'AveragePool', inputs: ['x'], output: 'y', attrs: { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 0, 1, 1]), ceil_mode: int(1) } }], {}, 1e-2],
      ['LRN', [{ op: 'LRN', inputs: ['x'], output: 'y', attrs: { size: int(2), alpha: float(0.5) } }], {}, 1e-2],
      ['ConvTranspose', [{ op: 'ConvTranspose', inputs: ['x', 'w'], output: 'y', attrs: { strides: ints([2, 2]), pads: ints([1, 1, 0, 0]) } }], { w: weights([3, 2, 3, 3], 80) }, 1e-2],
      ['grouped Conv', [{ op: 'Conv', inputs: ['x', 'w'], output: 'y', attrs: { group: int(3), dilations: ints([2, 2]), pads: ints([2, 1, 0, 1]) } }], { w: weights([6, 1, 3, 3], 81) }, 1e-2],
      // Stride-1 convolutions compute their input gradient as a forward convolution.
      ['Conv 3 x 3, same padding, bias', [{ op: 'Conv', inputs: ['x', 'w', 'b'], output: 'y', attrs: { pads: ints([1, 1, 1, 1]) } }], { w: weights([5, 3, 3, 3], 83), b: weights([5], 84) }, 1e-2],
      ['Conv 3 x 3 → ReLU, same padding', [{ op: 'Conv', inputs: ['x', 'w'], output: 'c', attrs: { pads: ints([1, 1, 1, 1]) } }, { op: 'Relu', inputs: ['c'], output: 'y' }], { w: weights([4, 3, 3, 3], 85) }, 1e-3],
      ['Conv 5 x 5, valid', [{ op: 'Conv', inputs: ['x', 'w'], output: 'y' }], { w: weights([2, 3, 5, 5], 86) }, 1e-2],
      ['Conv 2 x 3, uneven explicit pads', [{ op: 'Conv', inputs: ['x', 'w'], output: 'y', attrs: { pads: ints([1, 0, 0, 2]) } }], { w: weights([3, 3, 2, 3], 87) }, 1e-2],
      ['Conv 1 x 1', [{ op: 'Conv', inputs: ['x', 'w'], output: 'y' }], { w: weights([4, 3, 1, 1], 88) }, 1e-2],
      ['Flatten → Softmax', [{ op: 'Flatten', inputs: ['x'], output: 'f' }, { op: 'Softmax', inputs: ['f'], output: 'y' }], {}, 1e-2],
    ];
    for (const [name, nodes, inits, eps] of cases) {
      it(name, async () => {
        const file = path.join(dir, `grad-${count++}.onnx`);
        writeFileSync(file, buildModel({ nodes, inits }));
        const model = (await loadModelFile(file, { inputConvention: { ...RAW, inputSize: 7 } })) as GraphModel;
        // A fixed random weighting of the outputs makes a scalar objective.
        const outShape = model.layerShapesAt(7, 7, ['y']).get('y')!;
        const probe = tf.tensor(randomArray(outShape.reduce((a, b) => a * b, 1), 5), [1, ...outShape]);
        const f = (x: tf.Tensor) => tf.sum(tf.mul(model.forward(x as tf.Tensor4D, ['y']).y, probe));
        const x = randomArray(7 * 7 * 3, 82, 1);
        // Asynchronous reads: the test runs on any backend (ARTIPHYS_BACKEND=webgpu too).
        const read = async (t: tf.Tensor) => {
          const v = (await t.data()) as Float32Array;
          t.dispose();
          return v;
        };
        const value = async (v: Float32Array) => (await read(tf.tidy(() => f(tf.tensor4d(v, [1, 7, 7, 3])))))[0];
        const grad = await read(tf.tidy(() => tf.grad(f)(tf.tensor4d(x, [1, 7, 7, 3]))));
        for (let i = 0; i < x.length; i++) {
          const up = Float32Array.from(x);
          const down = Float32Array.from(x);
          up[i] += eps;
          down[i] -= eps;
          const numeric = ((await value(up)) - (await value(down))) / (2 * eps);
          expect(Math.abs(grad[i] - numeric), `pixel ${Math.floor(i / 3)}, channel ${i % 3}`).toBeLessThan((eps < 1e-2 ? 2e-2 : 1e-3) + 1e-2 * Math.abs(numeric));
        }
        probe.dispose();
        model.dispose();
      });
    }
  });

  it('Add, Sub, Mul, Div with broadcasting against constants and between branches', async () => {
    const c = 4;
    await expectMatch(
      chain(c, [
        { op: 'Add', inputs: ['a', 'perChannel'], output: 'add' },
        { op: 'Sub', inputs: ['full', 'add'], output: 'sub' },
        { op: 'Mul', inputs: ['sub', 'perColumn'], output: 'mul' },
        { op: 'Div', inputs: ['mul', 'positive'], output: 'div' },
        { op: 'Add', inputs: ['div', 'a'], output: 'branches' },
        { op: 'Mul', inputs: ['branches', 'scalar'], output: 'scaled' },
      ], {
        perChannel: weights([c, 1, 1], 30), full: weights([1, c, 1, 1], 31), perColumn: weights([10], 32),
        positive: { shape: [c, 1, 1], floats: [1.5, 2, 0.5, 4] }, scalar: { shape: [], floats: [3] },
      }),
      10,
      10,
    );
  });

  it('Concat, Flatten, Reshape, Gemm, MatMul, Softmax keep ONNX element order', async () => {
    await expectMatch(
      chain(4, [
        { op: 'Relu', inputs: ['a'], output: 'r' },
        { op: 'Concat', inputs: ['a', 'r'], output: 'channels', attrs: { axis: int(1) } },
        { op: 'Concat', inputs: ['a', 'r'], output: 'rows', attrs: { axis: int(-2) } },
        { op: 'Flatten', inputs: ['channels'], output: 'flat' },
        { op: 'Gemm', inputs: ['flat', 'fc', 'fcb'], output: 'gemm', attrs: { transB: int(1), alpha: float(0.5), beta: float(2) } },
        { op: 'Reshape', inputs: ['a', 'shape2'], output: 'flat2' },
        { op: 'MatMul', inputs: ['flat2', 'mm'], output: 'matmul' },
        { op: 'Gemm', inputs: ['matmul', 'fc2'], output: 'gemm2' },
        { op: 'Softmax', inputs: ['gemm'], output: 'softmax' },
        { op: 'Reshape', inputs: ['a', 'shape4'], output: 'regrid' },
        { op: 'Conv', inputs: ['regrid', 'wr'], output: 'afterRegrid', attrs: { pads: ints([1, 1, 1, 1]) } },
        { op: 'MatMul', inputs: ['a', 'mmw'], output: 'matmul4' },
        { op: 'Softmax', inputs: ['a'], output: 'softmaxChannels', attrs: { axis: int(1) } },
      ], {
        fc: weights([7, 8 * 8 * 8], 40, 0.05), fcb: weights([7], 41), shape2: { shape: [2], int64s: [0, -1] },
        mm: weights([4 * 8 * 8, 5], 42, 0.05), fc2: weights([5, 3], 43), shape4: { shape: [4], int64s: [0, 16, 4, -1] },
        wr: weights([2, 16, 3, 3], 44, 0.2), mmw: weights([8, 5], 45),
      }),
      8,
      8,
    );
  });

  it('Pad: constant, reflect, edge and cropping pads; a Constant node', async () => {
    await expectMatch(
      chain(3, [
        { op: 'Pad', inputs: ['a', 'p1', 'v'], output: 'constant' },
        { op: 'Pad', inputs: ['a', 'p2'], output: 'reflect', attrs: { mode: str('reflect') } },
        { op: 'Pad', inputs: ['a', 'p3'], output: 'edge', attrs: { mode: str('edge') } },
        { op: 'Pad', inputs: ['a', 'p4'], output: 'crop' },
        { op: 'Constant', inputs: [], output: 'k', attrs: { value: tensorAttr(weights([3, 1, 1], 51)) } },
        { op: 'Add', inputs: ['crop', 'k'], output: 'plusConstant' },
      ], {
        p1: { shape: [8], int64s: [0, 0, 1, 2, 0, 1, 0, 3] }, v: { shape: [], floats: [0.7] },
        p2: { shape: [8], int64s: [0, 0, 2, 1, 0, 0, 1, 2] }, p3: { shape: [8], int64s: [0, 1, 2, 0, 0, 0, 0, 3] },
        p4: { shape: [8], int64s: [0, 0, -1, 1, 0, 0, 2, -2] },
      }),
    );
  });

  it('opset 10 forms: Clip and Pad attributes, Softmax over trailing axes', async () => {
    await expectMatch(
      chain(
        3,
        [
          { op: 'Clip', inputs: ['a'], output: 'clip', attrs: { min: float(-0.2), max: float(0.5) } },
          { op: 'Pad', inputs: ['a'], output: 'pad', attrs: { pads: ints([0, 0, 1, 1, 0, 0, 1, 1]), value: float(-1) } },
          { op: 'Softmax', inputs: ['a'], output: 'softmax', attrs: { axis: int(1) } },
        ],
        {},
        10,
      ),
    );
  });
});

