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

/** Same shape, and every value within 1e-5 of the largest magnitude of `want`. */
async function close(got: tf.Tensor, want: tf.Tensor, what: string): Promise<void> {
  expect(got.shape, what).toEqual(want.shape);
  const [a, b] = [await got.data(), await want.data()];
  const scale = Math.max(...Array.from(b, Math.abs), 1e-6);
  a.forEach((v, i) => expect(Math.abs(v - b[i]) / scale, `${what} [${i}]`).toBeLessThan(1e-5));
}

/** a → 3 x 3 conv (w1, c1) → ReLU r1 → 2 x 2 max pool p1. */
const convReluPool: ModelSpec['nodes'] = [
  { op: 'Conv', inputs: ['a', 'w1', 'c1'], output: 'c1out', attrs: { pads: ints([1, 1, 1, 1]) } },
  { op: 'Relu', inputs: ['c1out'], output: 'r1' },
  { op: 'MaxPool', inputs: ['r1'], output: 'p1', attrs: { kernel_shape: ints([2, 2]), strides: ints([2, 2]) } },
];

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

  it('a convolution asked for at one position computes it there alone: same values, same input gradient', async () => {
    const bnInputs = (x: string) => [x, 'g', 'b', 'm', 'v'];
    const spec = chain(4, [
      { op: 'Conv', inputs: ['a', 'w1', 'c1'], output: 'same', attrs: { pads: ints([1, 1, 1, 1]) } },
      { op: 'Relu', inputs: ['same'], output: 'r1' },
      { op: 'Conv', inputs: ['r1', 'w2'], output: 'c2', attrs: { strides: ints([2, 2]), pads: ints([2, 1, 0, 1]), dilations: ints([2, 1]) } },
      { op: 'BatchNormalization', inputs: bnInputs('c2'), output: 'b2' },
      { op: 'Relu', inputs: ['b2'], output: 'r2' },
      { op: 'Conv', inputs: ['r2', 'gw'], output: 'g3', attrs: { group: int(2), pads: ints([1, 1, 1, 1]) } },
    ], {
      w1: weights([6, 4, 3, 3], 31), c1: weights([6], 32), w2: weights([8, 6, 3, 3], 33), gw: weights([4, 4, 3, 3], 34),
      g: weights([8], 35, 2), b: weights([8], 36), m: weights([8], 37), v: { shape: [8], floats: Array.from({ length: 8 }, (_, i) => 0.5 + i) },
    });
    const file = path.join(dir, `at-${count++}.onnx`);
    writeFileSync(file, buildModel(spec));
    const [h, w] = [13, 10];
    const model = (await loadModelFile(file, { inputConvention: { ...RAW, inputSize: h } })) as GraphModel;
    const x = tf.tensor4d(randomArray(2 * h * w * 3, 41, 2), [2, h, w, 3]);
    // Padded corners, the interior, a strided dilated conv with its batch norm and ReLU fused, a grouped conv.
    const cases: [string, [number, number]][] = [['r1', [0, 0]], ['r1', [12, 9]], ['r1', [6, 3]], ['r2', [0, 4]], ['r2', [5, 0]], ['g3', [3, 2]]];
    for (const [layer, [py, px]] of cases) {
      const what = `${layer} at (${py}, ${px})`;
      const whole = (t: tf.Tensor) => tf.slice(t, [0, py, px, 0], [-1, 1, 1, -1]);
      const { acts, restricted } = model.forwardAt(x, [layer, 'a'], { [layer]: [py, px] });
      expect([...restricted], what).toEqual([layer]);
      const full = model.forward(x, [layer, 'a']);
      await close(acts[layer], whole(full[layer]), what);
      await close(acts.a, full.a, `${what}: the other layer`);
      const probe = tf.tensor4d(randomArray(acts[layer].size, 42), acts[layer].shape as [number, number, number, number]);
      const gAt = tf.grad((p: tf.Tensor) => tf.sum(tf.mul(model.forwardAt(p as tf.Tensor4D, [layer], { [layer]: [py, px] }).acts[layer], probe)))(x);
      const gWhole = tf.grad((p: tf.Tensor) => tf.sum(tf.mul(whole(model.forward(p as tf.Tensor4D, [layer])[layer]), probe)))(x);
      await close(gAt, gWhole, `${what}: gradient`);
      // Some channels only (two, one): the same as those channels of the whole layer, values and gradient.
      for (const channels of [[1, 3], [2]]) {
        const picked = (t: tf.Tensor) => tf.gather(whole(t), channels, 3);
        const some = model.forwardAt(x, [layer], { [layer]: [py, px] }, { [layer]: channels }).acts[layer];
        await close(some, picked(full[layer]), `${what}, channels ${channels}`);
        const few = tf.tensor4d(randomArray(some.size, 43), some.shape as [number, number, number, number]);
        const gSome = tf.grad((p: tf.Tensor) => tf.sum(tf.mul(model.forwardAt(p as tf.Tensor4D, [layer], { [layer]: [py, px] }, { [layer]: channels }).acts[layer], few)))(x);
        const gPicked = tf.grad((p: tf.Tensor) => tf.sum(tf.mul(picked(model.forward(p as tf.Tensor4D, [layer])[layer]), few)))(x);
        await close(gSome, gPicked, `${what}, channels ${channels}: gradient`);
        tf.dispose([some, few, gSome, gPicked]);
      }
      tf.dispose([...Object.values(acts), ...Object.values(full), probe, gAt, gWhole]);
    }
    // Left whole: a layer another requested layer needs whole, and a position outside the output.
    for (const [layers, at] of [[['r1', 'r2'], { r1: [1, 1] }], [['r1'], { r1: [13, 0] }]] as const) {
      const { acts, restricted } = model.forwardAt(x, layers, at);
      expect(restricted.size).toBe(0);
      expect(acts.r1.shape).toEqual([2, h, w, 6]);
      tf.dispose(Object.values(acts));
    }
    x.dispose();
    model.dispose();
  });

  // As in a diverse run: the layer before the pool is asked for whole (the distance layer), so the
  // pool is a step of its own.
  it('a convolution after a 2 x 2 max pool, asked for at one position, pools only the window it reads', async () => {
    const spec = chain(4, [
      ...convReluPool,
      { op: 'Conv', inputs: ['p1', 'w2', 'c2'], output: 'c2out', attrs: { pads: ints([1, 1, 1, 1]) } },
      { op: 'Relu', inputs: ['c2out'], output: 'r2' },
    ], { w1: weights([6, 4, 3, 3], 51), c1: weights([6], 52), w2: weights([5, 6, 3, 3], 53), c2: weights([5], 54) });
    const file = path.join(dir, `at-pool-${count++}.onnx`);
    writeFileSync(file, buildModel(spec));
    // 13 x 10 pools to 6 x 5: a last row of r1 lies outside every window.
    const [h, w] = [13, 10];
    const model = (await loadModelFile(file, { inputConvention: { ...RAW, inputSize: h } })) as GraphModel;
    const x = tf.tensor4d(randomArray(2 * h * w * 3, 55, 2), [2, h, w, 3]);
    // The input shapes of the MaxPool kernels a pass runs.
    const pooled = (pass: () => tf.Tensor[]): { shapes: number[][]; out: tf.Tensor[] } => {
      const engine = tf.engine() as unknown as { runKernel: (name: string, inputs: Record<string, tf.Tensor>, ...rest: unknown[]) => unknown };
      const runKernel = engine.runKernel;
      const shapes: number[][] = [];
      engine.runKernel = function (name, inputs, ...rest) {
        if (name === 'MaxPool') shapes.push([...inputs.x.shape]);
        return runKernel.call(this, name, inputs, ...rest);
      };
      try {
        return { shapes, out: pass() };
      } finally {
        engine.runKernel = runKernel;
      }
    };
    for (const [py, px] of [[0, 0], [2, 3], [5, 4]] as const) {
      const what = `r2 at (${py}, ${px})`;
      const whole = (t: tf.Tensor) => tf.slice(t, [0, py, px, 0], [-1, 1, 1, -1]);
      const probe = tf.tensor4d(randomArray(2 * 5, 56), [2, 1, 1, 5]);
      // Values and input gradient, under a tape as an objective takes them.
      const { shapes, out } = pooled(() => {
        const { value, grad } = tf.valueAndGrad((p: tf.Tensor) => tf.sum(tf.mul(model.forwardAt(p as tf.Tensor4D, ['r2', 'r1'], { r2: [py, px] }).acts.r2, probe)))(x);
        return [value, grad];
      });
      // Only the pooled values of the 3 x 3 window (less at the border) were computed.
      const rows = Math.min(py + 2, 6) - Math.max(py - 1, 0);
      const cols = Math.min(px + 2, 5) - Math.max(px - 1, 0);
      expect(shapes, what).toEqual([[2, 2 * rows, 2 * cols, 6]]);
      const { value, grad } = tf.valueAndGrad((p: tf.Tensor) => tf.sum(tf.mul(whole(model.forward(p as tf.Tensor4D, ['r2']).r2), probe)))(x);
      await close(out[0], value, what);
      await close(out[1], grad, `${what}: gradient`);
      // Asked for too, the pooled layer is computed whole and the unit read from it.
      const both = model.forwardAt(x, ['r2', 'p1'], { r2: [py, px] });
      expect([...both.restricted], what).toEqual(['r2']);
      expect(both.acts.p1.shape).toEqual([2, 6, 5, 6]);
      await close(both.acts.r2, whole(model.forward(x, ['r2']).r2), `${what}, with p1`);
      tf.dispose([...out, value, grad, probe, ...Object.values(both.acts)]);
    }
    x.dispose();
    model.dispose();
  });

  it('Conv → ReLU → 2 x 2 MaxPool as one step: the values of onnxruntime, with and without a gradient tape', async () => {
    const spec = chain(4, [
      ...convReluPool,
    ], { w1: weights([6, 4, 3, 3], 57), c1: weights([6], 58) });
    const bytes = buildModel(spec);
    const file = path.join(dir, `pool-step-${count++}.onnx`);
    writeFileSync(file, bytes);
    const [h, w] = [13, 10];
    const model = (await loadModelFile(file, { inputConvention: { ...RAW, inputSize: h } })) as GraphModel;
    const x = randomArray(2 * h * w * 3, 59, 2);
    const ref = await runOrt(await ortSession(bytes), x, [2, h, w, 3], ['p1', 'r1']);
    const input = tf.tensor4d(x, [2, h, w, 3]);
    let taped: Record<string, tf.Tensor> = {};
    for (const layers of [['p1'], ['p1', 'r1']]) {
      // Under a tape (as an optimization runs it) and without (as a scan does).
      tf.grad((p: tf.Tensor) => {
        taped = model.forward(p as tf.Tensor4D, layers);
        Object.values(taped).forEach((t) => tf.keep(t));
        return tf.sum(taped.p1);
      })(input).dispose();
      const plain = model.forward(input, layers);
      for (const [what, outs] of [['taped', taped], ['plain', plain]] as const) {
        for (const l of layers) {
          const err = relativeError({ data: (await outs[l].data()) as Float32Array, shape: outs[l].shape }, ref[l]);
          expect(err, `${what} ${l} (asked for ${layers.join(', ')})`).toBeLessThan(1e-5);
        }
      }
      tf.dispose([...Object.values(taped), ...Object.values(plain)]);
    }
    input.dispose();
    model.dispose();
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
    const cases: [string, ModelSpec['nodes'], ModelSpec['inits'], number, number?][] = [
      ['edge Pad', [{ op: 'Pad', inputs: ['x', 'p'], output: 'y', attrs: { mode: str('edge') } }], { p: { shape: [8], int64s: [0, 0, 1, 2, 0, 0, 2, 1] } }, 1e-2],
      ['reflect Pad', [{ op: 'Pad', inputs: ['x', 'p'], output: 'y', attrs: { mode: str('reflect') } }], { p: { shape: [8], int64s: [0, 0, 1, 2, 0, 0, 2, 1] } }, 1e-2],
      // A small step keeps the max of each window from switching.
      ['MaxPool', [{ op: 'MaxPool', inputs: ['x'], output: 'y', attrs: { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]), ceil_mode: int(1) } }], {}, 1e-3],
      // Windows that tile the input take the comparison gradient; 7 x 7 leaves out a last row and column.
      ['MaxPool 2 x 2, stride 2', [{ op: 'MaxPool', inputs: ['x'], output: 'y', attrs: { kernel_shape: ints([2, 2]), strides: ints([2, 2]) } }], {}, 1e-3],
      // All-zero windows after the ReLU: their gradient stays zero.
      ['Conv → ReLU → MaxPool 2 x 2, stride 2', [
        { op: 'Conv', inputs: ['x', 'w'], output: 'c', attrs: { pads: ints([1, 1, 1, 1]) } },
        { op: 'Relu', inputs: ['c'], output: 'r' },
        { op: 'MaxPool', inputs: ['r'], output: 'y', attrs: { kernel_shape: ints([2, 2]), strides: ints([2, 2]) } },
      ], { w: weights([4, 3, 3, 3], 89) }, 1e-3],
      // Run as one step that pools the conv's outputs before the bias and the ReLU.
      ['Conv with bias → ReLU → MaxPool 2 x 2, stride 2', [
        { op: 'Conv', inputs: ['x', 'w', 'b'], output: 'c', attrs: { pads: ints([1, 1, 1, 1]) } },
        { op: 'Relu', inputs: ['c'], output: 'r' },
        { op: 'MaxPool', inputs: ['r'], output: 'y', attrs: { kernel_shape: ints([2, 2]), strides: ints([2, 2]) } },
      ], { w: weights([4, 3, 3, 3], 92), b: weights([4], 93) }, 1e-3],
      ['AveragePool', [{ op: 'AveragePool', inputs: ['x'], output: 'y', attrs: { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 0, 1, 1]), ceil_mode: int(1) } }], {}, 1e-2],
      ['LRN', [{ op: 'LRN', inputs: ['x'], output: 'y', attrs: { size: int(2), alpha: float(0.5) } }], {}, 1e-2],
      ['ConvTranspose', [{ op: 'ConvTranspose', inputs: ['x', 'w'], output: 'y', attrs: { strides: ints([2, 2]), pads: ints([1, 1, 0, 0]) } }], { w: weights([3, 2, 3, 3], 80) }, 1e-2],
      ['grouped Conv', [{ op: 'Conv', inputs: ['x', 'w'], output: 'y', attrs: { group: int(3), dilations: ints([2, 2]), pads: ints([2, 1, 0, 1]) } }], { w: weights([6, 1, 3, 3], 81) }, 1e-2],
      // Stride-1 convolutions compute their input gradient as a forward convolution where the
      // input has 16 channels or more, and with Conv2DBackpropInput where it has fewer (an image).
      ['Conv 1 x 1 to 16 channels → Conv 3 x 3, same padding', [
        { op: 'Conv', inputs: ['x', 'w1'], output: 'c' },
        { op: 'Conv', inputs: ['c', 'w2', 'b'], output: 'y', attrs: { pads: ints([1, 1, 1, 1]) } },
      ], { w1: weights([16, 3, 1, 1], 94), w2: weights([4, 16, 3, 3], 95), b: weights([4], 96) }, 1e-2],
      ['Conv 1 x 1 to 16 channels → Conv 3 x 3, valid', [
        { op: 'Conv', inputs: ['x', 'w1'], output: 'c' },
        { op: 'Conv', inputs: ['c', 'w2'], output: 'y' },
      ], { w1: weights([16, 3, 1, 1], 97), w2: weights([2, 16, 3, 3], 98) }, 1e-2],
      ['Conv 3 x 3, same padding, bias', [{ op: 'Conv', inputs: ['x', 'w', 'b'], output: 'y', attrs: { pads: ints([1, 1, 1, 1]) } }], { w: weights([5, 3, 3, 3], 83), b: weights([5], 84) }, 1e-2],
      ['Conv 3 x 3 → ReLU, same padding', [{ op: 'Conv', inputs: ['x', 'w'], output: 'c', attrs: { pads: ints([1, 1, 1, 1]) } }, { op: 'Relu', inputs: ['c'], output: 'y' }], { w: weights([4, 3, 3, 3], 85) }, 1e-3],
      ['Conv 5 x 5, valid', [{ op: 'Conv', inputs: ['x', 'w'], output: 'y' }], { w: weights([2, 3, 5, 5], 86) }, 1e-2],
      ['Conv 2 x 3, uneven explicit pads', [{ op: 'Conv', inputs: ['x', 'w'], output: 'y', attrs: { pads: ints([1, 0, 0, 2]) } }], { w: weights([3, 3, 2, 3], 87) }, 1e-2],
      ['Conv 1 x 1', [{ op: 'Conv', inputs: ['x', 'w'], output: 'y' }], { w: weights([4, 3, 1, 1], 88) }, 1e-2],
      ['Flatten → Softmax', [{ op: 'Flatten', inputs: ['x'], output: 'f' }, { op: 'Softmax', inputs: ['f'], output: 'y' }], {}, 1e-2],
      ['ReduceMean over H and W', [{ op: 'ReduceMean', inputs: ['x'], output: 'y', attrs: { axes: ints([2, 3]), keepdims: int(0) } }], {}, 1e-2],
      ['ReduceSum over channels, axes as input', [{ op: 'ReduceSum', inputs: ['x', 'axes'], output: 'y' }], { axes: { shape: [1], int64s: [1] } }, 1e-2],
      // A small step keeps the maximum from switching.
      ['ReduceMax over W', [{ op: 'ReduceMax', inputs: ['x'], output: 'y', attrs: { axes: ints([3]) } }], {}, 1e-3],
      ['Transpose to NHWC → LayerNormalization → Transpose back', [
        { op: 'Transpose', inputs: ['x'], output: 't', attrs: { perm: ints([0, 2, 3, 1]) } },
        { op: 'LayerNormalization', inputs: ['t', 'g', 'b'], output: 'n', attrs: { epsilon: float(1e-3) } },
        { op: 'Transpose', inputs: ['n'], output: 'y', attrs: { perm: ints([0, 3, 1, 2]) } },
      ], { g: weights([3], 90, 2), b: weights([3], 91) }, 1e-2],
      ['Erf', [{ op: 'Erf', inputs: ['x'], output: 'y' }], {}, 1e-2],
      ['Gelu (exact)', [{ op: 'Gelu', inputs: ['x'], output: 'y' }], {}, 1e-2, 20],
      ['Gelu (tanh)', [{ op: 'Gelu', inputs: ['x'], output: 'y', attrs: { approximate: str('tanh') } }], {}, 1e-2, 20],
      // Steps small enough not to cross the kinks at -3 / 3 and at the clip bounds.
      ['HardSwish', [{ op: 'HardSwish', inputs: ['x'], output: 'y' }], {}, 1e-3],
      ['HardSigmoid', [{ op: 'HardSigmoid', inputs: ['x'], output: 'y', attrs: { alpha: float(0.6) } }], {}, 1e-3],
      ['Mul → Add → Sqrt, Pow, Exp, Neg, Reciprocal', [
        { op: 'Mul', inputs: ['x', 'x'], output: 'sq' },
        { op: 'Add', inputs: ['sq', 'half'], output: 'pos' },
        { op: 'Sqrt', inputs: ['pos'], output: 'root' },
        { op: 'Pow', inputs: ['root', 'three'], output: 'cube' },
        { op: 'Reciprocal', inputs: ['cube'], output: 'inv' },
        { op: 'Neg', inputs: ['inv'], output: 'neg' },
        { op: 'Exp', inputs: ['neg'], output: 'y' },
      ], { half: { shape: [], floats: [0.5] }, three: { shape: [], floats: [3] } }, 1e-2],
      ['Resize, linear (half pixel, upsampling)', [{ op: 'Resize', inputs: ['x', '', 's'], output: 'y', attrs: { mode: str('linear') } }], { s: { shape: [4], floats: [1, 1, 1.5, 2] } }, 1e-2],
      ['Resize, nearest (asymmetric, floor)', [{ op: 'Resize', inputs: ['x', '', 's'], output: 'y', attrs: { coordinate_transformation_mode: str('asymmetric'), nearest_mode: str('floor') } }], { s: { shape: [4], floats: [1, 1, 2, 2] } }, 1e-2],
      ['Split → Slice, Gather → Concat', [
        { op: 'Split', inputs: ['x', 'parts'], output: ['p0', 'p1'], attrs: { axis: int(1) } },
        { op: 'Slice', inputs: ['p1', 'starts', 'ends', 'axes', 'steps'], output: 's' },
        { op: 'Gather', inputs: ['p0', 'columns'], output: 'g', attrs: { axis: int(3) } },
        { op: 'Concat', inputs: ['s', 'g'], output: 'y', attrs: { axis: int(2) } },
      ], {
        parts: { shape: [2], int64s: [1, 2] }, starts: { shape: [2], int64s: [-1, 6] }, ends: { shape: [2], int64s: [0, 0] },
        axes: { shape: [2], int64s: [1, 3] }, steps: { shape: [2], int64s: [-1, -2] }, columns: { shape: [3], int64s: [6, 0, -1] },
      }, 1e-2],
    ];
    for (const [name, nodes, inits, eps, opset] of cases) {
      it(name, async () => {
        const file = path.join(dir, `grad-${count++}.onnx`);
        writeFileSync(file, buildModel({ nodes, inits, opset }));
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

  const i64 = (...v: number[]) => ({ shape: [v.length], int64s: v });
  const scalarIndex = (i: number) => ({ shape: [], int64s: [i] });

  it('ReduceMean, ReduceSum, ReduceMax: axes as attribute and input, keepdims', async () => {
    await expectMatch(
      chain(4, [
        { op: 'ReduceMean', inputs: ['a'], output: 'globalPool', attrs: { axes: ints([2, 3]) } },
        { op: 'ReduceMax', inputs: ['a'], output: 'maxChannels', attrs: { axes: ints([1]), keepdims: int(0) } },
        { op: 'ReduceMean', inputs: ['a'], output: 'meanCW', attrs: { axes: ints([-1, 1]), keepdims: int(0) } },
        { op: 'ReduceSum', inputs: ['a', 'lastAxis'], output: 'sumW', attrs: { keepdims: int(0) } },
        { op: 'ReduceSum', inputs: ['a', 'chw'], output: 'sumAllButBatch' },
        { op: 'ReduceMax', inputs: ['a'], output: 'maxH', attrs: { axes: ints([2]) } },
      ], { lastAxis: i64(-1), chw: i64(1, 2, 3) }),
    );
  });

  it('opset 18 reductions: axes as input, global pooling as the dynamo exporter writes it, noop_with_empty_axes', async () => {
    await expectMatch(
      chain(4, [
        { op: 'ReduceMean', inputs: ['a', 'hw'], output: 'pooled', attrs: { keepdims: int(0) } },
        { op: 'ReduceMax', inputs: ['a', 'h'], output: 'maxH' },
        { op: 'ReduceMean', inputs: ['a'], output: 'noop', attrs: { noop_with_empty_axes: int(1) } },
        { op: 'Gemm', inputs: ['pooled', 'fc'], output: 'logits', attrs: { transB: int(1) } },
      ], { hw: i64(2, 3), h: i64(-2), fc: weights([5, 4], 100) }, 18),
    );
  });

  it('Transpose, LayerNormalization, MatMul on permuted tensors (the ConvNeXt block)', async () => {
    const c = 6;
    await expectMatch(
      chain(c, [
        { op: 'Transpose', inputs: ['a'], output: 'nhwc', attrs: { perm: ints([0, 2, 3, 1]) } },
        { op: 'LayerNormalization', inputs: ['nhwc', 'g', 'b'], output: 'ln', attrs: { axis: int(-1), epsilon: float(1e-6) } },
        { op: 'MatMul', inputs: ['ln', 'w1'], output: 'up' },
        // GELU as the classic exporter writes it: x * 0.5 * (1 + erf(x / sqrt 2)).
        { op: 'Div', inputs: ['up', 'sqrt2'], output: 'scaled' },
        { op: 'Erf', inputs: ['scaled'], output: 'erf' },
        { op: 'Add', inputs: ['erf', 'one'], output: 'erf1' },
        { op: 'Mul', inputs: ['up', 'erf1'], output: 'gelu2' },
        { op: 'Mul', inputs: ['gelu2', 'half'], output: 'gelu' },
        { op: 'MatMul', inputs: ['gelu', 'w2'], output: 'down' },
        { op: 'Transpose', inputs: ['down'], output: 'nchw', attrs: { perm: ints([0, 3, 1, 2]) } },
        { op: 'Add', inputs: ['nchw', 'a'], output: 'residual' },
        { op: 'Transpose', inputs: ['a'], output: 'nwch', attrs: { perm: ints([0, 3, 1, 2]) } },
        { op: 'LayerNormalization', inputs: ['a', 'g2'], output: 'lnCHW', attrs: { axis: int(1) } },
      ], {
        g: weights([c], 101, 2), b: weights([c], 102), w1: weights([c, 2 * c], 103), w2: weights([2 * c, c], 104),
        sqrt2: { shape: [], floats: [Math.SQRT2] }, one: { shape: [], floats: [1] }, half: { shape: [], floats: [0.5] },
        g2: weights([c, 1, 1], 105, 2),
      }),
    );
  });

  it('Erf, HardSigmoid, HardSwish, Sqrt, Pow, Exp, Neg, Reciprocal', async () => {
    await expectMatch(
      chain(4, [
        { op: 'Erf', inputs: ['a'], output: 'erf' },
        { op: 'HardSigmoid', inputs: ['a'], output: 'hardSigmoid', attrs: { alpha: float(0.3), beta: float(0.4) } },
        { op: 'HardSwish', inputs: ['a'], output: 'hardSwish' },
        { op: 'Mul', inputs: ['a', 'a'], output: 'square' },
        { op: 'Sqrt', inputs: ['square'], output: 'sqrt' },
        { op: 'Pow', inputs: ['a', 'three'], output: 'cube' },
        { op: 'Pow', inputs: ['sqrt', 'halfPower'], output: 'quarter' },
        { op: 'Exp', inputs: ['a'], output: 'exp' },
        { op: 'Neg', inputs: ['a'], output: 'neg' },
        { op: 'Reciprocal', inputs: ['exp'], output: 'reciprocal' },
      ], { three: { shape: [], floats: [3] }, halfPower: { shape: [1], floats: [0.5] } }),
    );
  });

  it('Gelu (opset 20), exact and tanh', async () => {
    await expectMatch(
      chain(3, [
        { op: 'Gelu', inputs: ['a'], output: 'exact' },
        { op: 'Gelu', inputs: ['a'], output: 'tanh', attrs: { approximate: str('tanh') } },
      ], {}, 20),
    );
  });

  it('Resize: nearest and linear, scales and sizes, every coordinate transformation', async () => {
    const resize = (output: string, scalesOrSizes: [string, string], attrs: NonNullable<ModelSpec['nodes'][number]['attrs']>) => ({
      op: 'Resize', inputs: ['a', '', ...scalesOrSizes].slice(0, scalesOrSizes[1] ? 4 : 3), output, attrs,
    });
    const nearest = str('nearest');
    const linear = str('linear');
    await expectMatch(
      chain(3, [
        resize('torchNearest', ['up2', ''], { mode: nearest, coordinate_transformation_mode: str('asymmetric'), nearest_mode: str('floor') }),
        resize('nearestHalfPixel', ['down', ''], { mode: nearest }),
        resize('nearestCeil', ['up2', ''], { mode: nearest, nearest_mode: str('round_prefer_ceil'), coordinate_transformation_mode: str('align_corners') }),
        resize('bilinear', ['up2', ''], { mode: linear }),
        resize('torchBilinear', ['down', ''], { mode: linear, coordinate_transformation_mode: str('pytorch_half_pixel') }),
        resize('alignCorners', ['', 'sizes'], { mode: linear, coordinate_transformation_mode: str('align_corners') }),
        resize('sizesHalfPixel', ['', 'sizes'], { mode: linear }),
        resize('asymmetric', ['odd', ''], { mode: linear, coordinate_transformation_mode: str('asymmetric') }),
      ], { up2: { shape: [4], floats: [1, 1, 2, 2] }, down: { shape: [4], floats: [1, 1, 0.6, 0.5] }, odd: { shape: [4], floats: [1, 1, 1.7, 0.8] }, sizes: i64(2, 3, 7, 17) }),
    );
  });

  it('Split: sizes as attribute (opset 11), as input (13), equal parts and num_outputs (18)', async () => {
    const nodes = (sizes: string[], attrs: NonNullable<ModelSpec['nodes'][number]['attrs']> = {}): ModelSpec['nodes'] => [
      { op: 'Split', inputs: ['a', ...sizes], output: ['s0', 's1', 's2'], attrs: { axis: int(1), ...attrs } },
      { op: 'Split', inputs: ['a'], output: ['h0', 'h1'], attrs: { axis: int(-2), ...(attrs.split ? { split: ints([5, 7]) } : attrs.num_outputs ? { num_outputs: int(2) } : {}) } },
    ];
    await expectMatch(chain(5, nodes([], { split: ints([1, 3, 1]) }), {}, 11), 12, 12);
    await expectMatch(chain(5, nodes(['sizes']), { sizes: i64(2, 2, 1) }, 13), 12, 12);
    await expectMatch(chain(6, nodes([]), {}, 13), 12, 12);
    // Five channels in three parts: 2, 2 and 1.
    await expectMatch(chain(5, nodes([], { num_outputs: int(3) }), {}, 18), 12, 12);
  });

  it('Gather, Unsqueeze, Concat: GoogLeNet transform_input (axes as input and as attribute)', async () => {
    for (const opset of [11, 13]) {
      const nodes = [0, 1, 2].flatMap((c): ModelSpec['nodes'] => [
        { op: 'Gather', inputs: ['x', `i${c}`], output: `g${c}`, attrs: { axis: int(1) } },
        { op: 'Unsqueeze', inputs: opset >= 13 ? [`g${c}`, 'axis1'] : [`g${c}`], output: `u${c}`, attrs: opset >= 13 ? {} : { axes: ints([1]) } },
        { op: 'Mul', inputs: [`u${c}`, `m${c}`], output: `p${c}` },
        { op: 'Add', inputs: [`p${c}`, `b${c}`], output: `t${c}` },
      ]);
      nodes.push(
        { op: 'Concat', inputs: ['t0', 't1', 't2'], output: 'transformed', attrs: { axis: int(1) } },
        { op: 'Gather', inputs: ['transformed', 'picked'], output: 'picked2d', attrs: { axis: int(3) } },
        { op: 'Squeeze', inputs: opset >= 13 ? ['u1', 'axis1'] : ['u1'], output: 'squeezed', attrs: opset >= 13 ? {} : { axes: ints([1]) } },
      );
      const inits: ModelSpec['inits'] = { axis1: i64(1), picked: { shape: [2, 2], int64s: [0, -1, 3, 3] } };
      [0, 1, 2].forEach((c) => {
        inits[`i${c}`] = scalarIndex(c);
        inits[`m${c}`] = { shape: [], floats: [[0.229, 0.224, 0.225][c] / 0.5] };
        inits[`b${c}`] = { shape: [], floats: [([0.485, 0.456, 0.406][c] - 0.5) / 0.5] };
      });
      await expectMatch({ nodes, inits, opset });
    }
  });

  it('receptive fields survive a channel picked out and put back, and a permuted detour of per-position ops; tokens have none', async () => {
    const file = path.join(dir, 'rf-transform.onnx');
    writeFileSync(file, buildModel({
      nodes: [
        { op: 'Gather', inputs: ['x', 'zero'], output: 'red', attrs: { axis: int(1) } },
        { op: 'Mul', inputs: ['red', 'two'], output: 'scaled' },
        { op: 'Unsqueeze', inputs: ['scaled', 'one'], output: 'back' },
        { op: 'Concat', inputs: ['back', 'x'], output: 'joined', attrs: { axis: int(1) } },
        { op: 'Conv', inputs: ['joined', 'w'], output: 'conv', attrs: { kernel_shape: ints([3, 3]) } },
        { op: 'Slice', inputs: ['conv', 'starts', 'ends', 'axes', 'steps'], output: 'cropped' },
        { op: 'Transpose', inputs: ['conv'], output: 'nhwc', attrs: { perm: ints([0, 2, 3, 1]) } },
        // ConvNeXt's detour: per-position ops on the permuted map keep the RF, which returns with the layout.
        { op: 'LayerNormalization', inputs: ['nhwc', 'lg'], output: 'ln' },
        { op: 'MatMul', inputs: ['ln', 'pw'], output: 'pointwiseConv' },
        { op: 'Transpose', inputs: ['pointwiseConv'], output: 'nchw', attrs: { perm: ints([0, 3, 1, 2]) } },
        { op: 'LayerNormalization', inputs: ['pointwiseConv', 'lg2'], output: 'lnOverW', attrs: { axis: int(2) } },
        { op: 'Transpose', inputs: ['lnOverW'], output: 'mixedBack', attrs: { perm: ints([0, 3, 1, 2]) } },
        { op: 'Reshape', inputs: ['conv', 'toSeq'], output: 'tokens' },
      ],
      inits: {
        zero: scalarIndex(0), two: { shape: [], floats: [2] }, one: i64(1), w: weights([4, 4, 3, 3], 130),
        starts: i64(1, 1), ends: i64(100, 100), axes: i64(2, 3), steps: i64(2, 1), toSeq: i64(0, 4, -1),
        lg: weights([4], 131), pw: weights([4, 5], 132), lg2: weights([7, 5], 133),
      },
    }));
    const model = await loadModelFile(file, { inputConvention: { ...RAW, inputSize: 9 } });
    const rf = (name: string) => model.layers.find((l) => l.name === name)?.rf;
    expect(rf('back')).toEqual({ size: 1, jump: 1, offset: 0 });
    expect(rf('conv')).toEqual({ size: 3, jump: 1, offset: 1 });
    // Every other row from row 1, every column from column 1: the square RF reports the larger jump.
    expect(rf('cropped')).toEqual({ size: 3, jump: 2, offset: 2 });
    expect(rf('nhwc')).toBeUndefined();
    expect(rf('nchw')).toEqual(rf('conv'));
    // Normalizing over W mixes positions.
    expect(rf('mixedBack')).toBeUndefined();
    expect(rf('tokens')).toBeUndefined();
    model.dispose();
  });

  it('Slice: steps, negative bounds, reversal, clamped ends, attribute form (opset 9)', async () => {
    await expectMatch(
      chain(6, [
        { op: 'Slice', inputs: ['a', 'st1', 'en1', 'ax1', 'sp1'], output: 'strided' },
        { op: 'Slice', inputs: ['a', 'st2', 'en2', 'ax2'], output: 'tail' },
        { op: 'Slice', inputs: ['a', 'st3', 'en3', 'ax3', 'sp3'], output: 'reversed' },
        { op: 'Slice', inputs: ['a', 'st4', 'en4'], output: 'leading' },
        { op: 'Flatten', inputs: ['a'], output: 'flat' },
        { op: 'Slice', inputs: ['flat', 'st5', 'en5', 'ax5'], output: 'flatPart' },
      ], {
        st1: i64(1, 0, 1), en1: i64(6, 1000, 9), ax1: i64(1, 2, 3), sp1: i64(2, 3, 4),
        st2: i64(-4), en2: i64(2 ** 62), ax2: i64(-2),
        st3: i64(-1, 100), en3: i64(-(2 ** 62), 2), ax3: i64(3, 1), sp3: i64(-1, -2),
        st4: i64(0, 2), en4: i64(1000, 5), st5: i64(7), en5: i64(-3), ax5: i64(1),
      }),
    );
    await expectMatch(
      chain(4, [{ op: 'Slice', inputs: ['a'], output: 'old', attrs: { starts: ints([1, -5]), ends: ints([3, 1000]), axes: ints([1, 2]) } }], {}, 9),
    );
  });

  it('ViT token path: patch embedding, tokens [N, T, C], LayerNorm, rank-3 and rank-4 MatMul attention, class-token Gather', async () => {
    const c = 8;
    const heads = 2;
    const d = c / heads;
    const tokens = 1 + 4 * 4;
    const spec: ModelSpec = {
      input: ['N', 3, 16, 16],
      nodes: [
        { op: 'Conv', inputs: ['x', 'wp', 'bp'], output: 'patches', attrs: { kernel_shape: ints([4, 4]), strides: ints([4, 4]) } },
        { op: 'Reshape', inputs: ['patches', 'toSeq'], output: 'seq' },
        { op: 'Transpose', inputs: ['seq'], output: 'tokens', attrs: { perm: ints([0, 2, 1]) } },
        // A class token from the batch itself (the real one is a constant broadcast over the batch).
        { op: 'ReduceMean', inputs: ['tokens'], output: 'cls', attrs: { axes: ints([1]) } },
        { op: 'Concat', inputs: ['cls', 'tokens'], output: 'withCls', attrs: { axis: int(1) } },
        { op: 'Add', inputs: ['withCls', 'pos'], output: 'embedded' },
        { op: 'LayerNormalization', inputs: ['embedded', 'g', 'b'], output: 'ln', attrs: { epsilon: float(1e-6) } },
        { op: 'MatMul', inputs: ['ln', 'wqkv'], output: 'qkv0' },
        { op: 'Add', inputs: ['qkv0', 'bqkv'], output: 'qkv' },
        { op: 'Split', inputs: ['qkv', 'thirds'], output: ['q', 'k', 'v'], attrs: { axis: int(-1) } },
        ...['q', 'k', 'v'].flatMap((t) => [
          { op: 'Reshape', inputs: [t, 'toHeads'], output: `${t}h` },
          { op: 'Transpose', inputs: [`${t}h`], output: `${t}t`, attrs: { perm: ints(t === 'k' ? [0, 2, 3, 1] : [0, 2, 1, 3]) } },
        ]),
        { op: 'MatMul', inputs: ['qt', 'kt'], output: 'scores' },
        { op: 'Mul', inputs: ['scores', 'scale'], output: 'scaledScores' },
        { op: 'Softmax', inputs: ['scaledScores'], output: 'attention', attrs: { axis: int(-1) } },
        { op: 'MatMul', inputs: ['attention', 'vt'], output: 'mixed' },
        { op: 'Transpose', inputs: ['mixed'], output: 'mixedT', attrs: { perm: ints([0, 2, 1, 3]) } },
        { op: 'Reshape', inputs: ['mixedT', 'toTokens'], output: 'attended' },
        { op: 'Add', inputs: ['attended', 'embedded'], output: 'block' },
        { op: 'Gather', inputs: ['block', 'first'], output: 'classToken', attrs: { axis: int(1) } },
        { op: 'Gemm', inputs: ['classToken', 'head'], output: 'logits', attrs: { transB: int(1) } },
        { op: 'Softmax', inputs: ['block'], output: 'tokenSoftmax', attrs: { axis: int(1) } },
      ],
      inits: {
        wp: weights([c, 3, 4, 4], 110, 0.2), bp: weights([c], 111), toSeq: i64(0, c, -1), pos: weights([1, tokens, c], 112),
        g: weights([c], 113, 2), b: weights([c], 114), wqkv: weights([c, 3 * c], 115), bqkv: weights([3 * c], 116),
        thirds: i64(c, c, c), toHeads: i64(0, 0, heads, d), scale: { shape: [], floats: [1 / Math.sqrt(d)] },
        toTokens: i64(0, 0, c), first: scalarIndex(0), head: weights([5, c], 117),
      },
    };
    await expectMatch(spec, 16, 16);
  });

  it('ShuffleNet channel shuffle: Split, Concat, rank-5 Reshape and Transpose; no tensor left behind', async () => {
    const c = 8;
    const spec = chain(c, [
      { op: 'Split', inputs: ['a'], output: ['left', 'right'], attrs: { axis: int(1) } },
      { op: 'Conv', inputs: ['right', 'wb'], output: 'branch' },
      { op: 'Relu', inputs: ['branch'], output: 'branchRelu' },
      { op: 'Concat', inputs: ['left', 'branchRelu'], output: 'joined', attrs: { axis: int(1) } },
      { op: 'Reshape', inputs: ['joined', 'groups'], output: 'grouped' },
      { op: 'Transpose', inputs: ['grouped'], output: 'swapped', attrs: { perm: ints([0, 2, 1, 3, 4]) } },
      { op: 'Reshape', inputs: ['swapped', 'back'], output: 'shuffled' },
      { op: 'Conv', inputs: ['shuffled', 'wn'], output: 'next', attrs: { pads: ints([1, 1, 1, 1]) } },
    ], { wb: weights([c / 2, c / 2, 1, 1], 120), groups: i64(0, 2, c / 2, 12, -1), back: i64(0, -1, 12, 12), wn: weights([4, c, 3, 3], 121, 0.2) });
    await expectMatch({ ...spec, outputs: ['shuffled', 'next'] }, 12, 12);
    await expectMatch({ ...spec, outputs: ['next'] }, 12, 12);

    const file = path.join(dir, 'shuffle.onnx');
    writeFileSync(file, buildModel(spec));
    const model = await loadModelFile(file, { inputConvention: { ...RAW, inputSize: 12 } });
    const x = tf.zeros([2, 12, 12, 3]) as tf.Tensor4D;
    const pass = (layers: string[]) => tf.dispose(Object.values(model.forward(x, layers)));
    // The first pass may keep what the model makes on first use (a fused conv's folded weights).
    pass(['next', 'grouped']);
    const before = tf.memory().numTensors;
    // Only one half of the Split is needed here: the other is freed as soon as it is made.
    pass(['left']);
    pass(['next', 'grouped']);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    expect(model.layers.map((l) => l.name)).toEqual(expect.arrayContaining(['left', 'right', 'grouped']));
    model.dispose();
  });

  it('a graph made for one image (batch fixed at 1, moved off axis 0) runs image by image, gradients too', async () => {
    const spec: ModelSpec = {
      input: [1, 3, 8, 8],
      nodes: [
        { op: 'Conv', inputs: ['x', 'w'], output: 'conv', attrs: { kernel_shape: ints([2, 2]), strides: ints([2, 2]) } },
        { op: 'Reshape', inputs: ['conv', 'toSeq'], output: 'seq' },
        // [T, 1, C], as PyTorch's exporters lay out attention for a static batch of 1.
        { op: 'Transpose', inputs: ['seq'], output: 'tokens', attrs: { perm: ints([2, 0, 1]) } },
        { op: 'MatMul', inputs: ['tokens', 'wqk'], output: 'qk' },
        { op: 'Split', inputs: ['qk'], output: ['q', 'k'], attrs: { axis: int(2), num_outputs: int(2) } },
        { op: 'Mul', inputs: ['q', 'k'], output: 'mixed' },
        { op: 'Gather', inputs: ['mixed', 'first'], output: 'firstToken', attrs: { axis: int(0) } },
        { op: 'Transpose', inputs: ['mixed'], output: 'batchFirst', attrs: { perm: ints([1, 0, 2]) } },
        { op: 'Reshape', inputs: ['batchFirst', 'flat'], output: 'flattened' },
        { op: 'Gemm', inputs: ['flattened', 'fc'], output: 'logits', attrs: { transB: int(1) } },
      ],
      inits: {
        w: weights([4, 3, 2, 2], 140), toSeq: i64(1, 4, 16), wqk: weights([4, 6], 141), first: scalarIndex(0),
        flat: i64(1, 48), fc: weights([5, 48], 142, 0.2),
      },
      opset: 18,
    };
    const outputs = ['firstToken', 'logits'];
    const bytes = buildModel({ ...spec, outputs });
    const file = path.join(dir, 'single-image.onnx');
    writeFileSync(file, bytes);
    const model = (await loadModelFile(file, { inputConvention: { ...RAW, inputSize: 8 } })) as GraphModel;
    const session = await ortSession(bytes);
    const images = [0, 1, 2].map((k) => randomArray(8 * 8 * 3, 150 + k, 2));
    const batch = tf.tensor4d(Float32Array.from(images.flatMap((x) => [...x])), [3, 8, 8, 3]);
    const ours = model.forward(batch, outputs);
    for (const [k, x] of images.entries()) {
      const ref = await runOrt(session, x, [1, 8, 8, 3], outputs);
      for (const o of outputs) {
        const mine = tf.tidy(() => tf.slice(ours[o], k, 1));
        expect(relativeError({ data: (await mine.data()) as Float32Array, shape: mine.shape }, ref[o]), `${o}, image ${k}`).toBeLessThan(1e-5);
        mine.dispose();
      }
    }
    // Continuing from a layer of the batch gives the same as the whole pass.
    const conv = model.forward(batch, ['conv']).conv;
    const resumed = model.forwardFrom({ conv }, ['logits']).logits;
    expect(await tf.tidy(() => tf.max(tf.abs(tf.sub(resumed, ours.logits)))).data()).toEqual(new Float32Array([0]));
    // The input gradient of the batch is each image's own.
    const objective = (x: tf.Tensor) => tf.sum(tf.square(model.forward(x as tf.Tensor4D, ['logits']).logits));
    const whole = tf.grad(objective)(batch);
    const single = tf.tidy(() => tf.concat([0, 1, 2].map((k) => tf.grad(objective)(tf.slice(batch, k, 1)))));
    expect(await tf.tidy(() => tf.max(tf.abs(tf.sub(whole, single)))).data()).toEqual(new Float32Array([0]));
    tf.dispose([batch, conv, resumed, whole, single, ...Object.values(ours)]);
    model.dispose();
  });
});

