// Shape subgraphs (Shape, Gather, Slice, Unsqueeze, Concat, ConstantOfShape, Range, Expand...)
// as exporters write them for a dynamic batch, folded at load and recomputed per input geometry:
// each model runs at batch 1 and 3 and at two image sizes and is compared with onnxruntime-node.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/engine/backend';
import { ModelFormatError } from '../../../src/main/engine/errors';
import type { GraphModel } from '../../../src/main/engine/graph/executor';
import { loadModelFile } from '../../../src/main/engine/models/load';
import { loadError } from './load-error';
import type { InputConvention } from '../../../src/shared/domain';
import { tempDir } from '../../helpers/temp';
import { buildModel, int, ints, randomArray, tensorAttr, weights, type InitSpec, type ModelSpec, type NodeSpec } from './onnx-builder';
import { ortSession, relativeError, runOrt } from './reference';

/** Pixels pass through unchanged, so both runtimes see the same input. */
const RAW: InputConvention = { channelOrder: 'RGB', scale: 255, mean: [0, 0, 0], std: [1, 1, 1], inputSize: 12 };
/** (batch, height, width) each model runs at; the first is the usual size. */
const GEOMETRIES: [number, number, number][] = [
  [1, 12, 12],
  [3, 12, 12],
  [1, 9, 14],
  [3, 9, 14],
];
const dir = tempDir();
let count = 0;

const i64 = (...v: number[]): InitSpec => ({ shape: [v.length], int64s: v });
const scalar = (v: number): InitSpec => ({ shape: [], int64s: [v] });

function save(spec: ModelSpec): { file: string; bytes: Uint8Array } {
  const bytes = buildModel(spec);
  const file = path.join(dir, `fold-${count++}.onnx`);
  writeFileSync(file, bytes);
  return { file, bytes };
}

/** Runs `outputs` in both runtimes at every geometry (one loaded model for all); the worst relative error per output. */
async function compareAcrossGeometries(spec: ModelSpec, outputs: string[]): Promise<Record<string, number>> {
  const { file, bytes } = save(spec);
  const model = (await loadModelFile(file, { inputConvention: RAW })) as GraphModel;
  const session = await ortSession(bytes);
  const worst: Record<string, number> = {};
  try {
    for (const [n, h, w] of GEOMETRIES) {
      const shape = [n, h, w, 3];
      const x = randomArray(n * h * w * 3, 7 + n + h, 2);
      const ref = await runOrt(session, x, shape, outputs);
      const shapes = model.layerShapesAt(h, w, outputs);
      const ours = tf.tidy(() => model.forward(tf.tensor4d(x, shape as [number, number, number, number]), outputs));
      for (const o of outputs) {
        const dims = ref[o].dims;
        expect(shapes.get(o), `${o} at ${h}x${w}`).toEqual(dims.length === 4 ? [dims[2], dims[3], dims[1]] : dims.slice(1));
        const err = relativeError({ data: (await ours[o].data()) as Float32Array, shape: ours[o].shape }, ref[o]);
        worst[o] = Math.max(worst[o] ?? 0, err);
      }
      tf.dispose(Object.values(ours));
    }
  } finally {
    model.dispose();
  }
  return worst;
}

async function expectMatch(spec: ModelSpec, outputs: string[]): Promise<void> {
  const errors = await compareAcrossGeometries(spec, outputs);
  for (const o of outputs) expect(errors[o], o).toBeLessThan(1e-4);
}

/** Conv 3 → 4 channels and ReLU: the activation "a" the shape subgraphs measure. */
const STEM: NodeSpec[] = [
  { op: 'Conv', inputs: ['x', 'w', 'b'], output: 'conv', attrs: { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) } },
  { op: 'Relu', inputs: ['conv'], output: 'a' },
];
const STEM_INITS: Record<string, InitSpec> = { w: weights([4, 3, 3, 3], 1), b: weights([4], 2) };

/** `[Shape(tensor)[axis]]` as the classic exporter writes `tensor.size(axis)`: Shape → Gather → Unsqueeze. */
function sizeOf(tensor: string, axis: number, out: string, opset = 13): { nodes: NodeSpec[]; inits: Record<string, InitSpec> } {
  return {
    nodes: [
      { op: 'Shape', inputs: [tensor], output: `${out}_shape` },
      { op: 'Gather', inputs: [`${out}_shape`, `${out}_axis`], output: `${out}_dim`, attrs: { axis: int(0) } },
      opset >= 13
        ? { op: 'Unsqueeze', inputs: [`${out}_dim`, `${out}_zero`], output: out }
        : { op: 'Unsqueeze', inputs: [`${out}_dim`], output: out, attrs: { axes: ints([0]) } },
    ],
    inits: { [`${out}_axis`]: scalar(axis), [`${out}_zero`]: i64(0) },
  };
}

describe('shape subgraphs fold at any batch and image size, matching onnxruntime-node', () => {
  beforeAll(async () => {
    await initBackend();
  });

  for (const opset of [11, 13]) {
    it(`x.view(x.size(0), -1) → Gemm with a dynamic batch (opset ${opset})`, async () => {
      const batch = sizeOf('gap', 0, 'n', opset);
      await expectMatch(
        {
          opset,
          nodes: [
            ...STEM,
            { op: 'GlobalAveragePool', inputs: ['a'], output: 'gap' },
            ...batch.nodes,
            { op: 'Concat', inputs: ['n', 'minus1'], output: 'target', attrs: { axis: int(0) } },
            { op: 'Reshape', inputs: ['gap', 'target'], output: 'flat' },
            { op: 'Gemm', inputs: ['flat', 'fc', 'fcb'], output: 'logits', attrs: { transB: int(1) } },
          ],
          inits: { ...STEM_INITS, ...batch.inits, minus1: i64(-1), fc: weights([5, 4], 3), fcb: weights([5], 4) },
        },
        ['flat', 'logits'],
      );
    });
  }

  it('a reshape whose target is computed from the image size: [N, C, H * W] from Shape, Slice and Mul', async () => {
    const n = sizeOf('a', 0, 'n');
    const c = sizeOf('a', 1, 'c');
    await expectMatch(
      {
        nodes: [
          ...STEM,
          ...n.nodes,
          ...c.nodes,
          // H and W as a slice of the shape, multiplied together (ReduceProd written as Mul of two Gathers).
          { op: 'Shape', inputs: ['a'], output: 'full' },
          { op: 'Slice', inputs: ['full', 'from2', 'to4'], output: 'hw' },
          { op: 'Gather', inputs: ['hw', 'zero'], output: 'h' },
          { op: 'Gather', inputs: ['hw', 'one'], output: 'w_' },
          { op: 'Mul', inputs: ['h', 'w_'], output: 'area' },
          { op: 'Unsqueeze', inputs: ['area', 'n_zero'], output: 'area1' },
          { op: 'Concat', inputs: ['n', 'c', 'area1'], output: 'target', attrs: { axis: int(0) } },
          { op: 'Reshape', inputs: ['a', 'target'], output: 'tokens' },
          { op: 'Softmax', inputs: ['tokens'], output: 'attention', attrs: { axis: int(-1) } },
        ],
        inits: { ...STEM_INITS, ...n.inits, ...c.inits, from2: i64(2), to4: i64(4), zero: scalar(0), one: scalar(1) },
      },
      ['tokens', 'attention'],
    );
  });

  it('x.shape[3:] and a reversed shape: Slice ends of INT64_MAX and INT64_MIN as exporters write them', async () => {
    // int64 extremes as decimal strings: a JS number cannot hold them, protobufjs encodes the strings exactly.
    const extreme = (v: string) => v as unknown as number;
    await expectMatch(
      {
        nodes: [
          ...STEM,
          { op: 'Shape', inputs: ['a'], output: 'full' },
          { op: 'Slice', inputs: ['full', 'three', 'int64_max'], output: 'w_only' },
          // Reversed: [W, H, C, N]; its last entry is the batch.
          { op: 'Slice', inputs: ['full', 'minus1', 'int64_min', 'zero', 'minus1'], output: 'reversed' },
          { op: 'Slice', inputs: ['reversed', 'three', 'int64_max'], output: 'n' },
          { op: 'Concat', inputs: ['n', 'minus1', 'w_only'], output: 'target', attrs: { axis: int(0) } },
          { op: 'Reshape', inputs: ['a', 'target'], output: 'rows' },
        ],
        inits: {
          ...STEM_INITS, three: i64(3), zero: i64(0), minus1: i64(-1),
          int64_max: i64(extreme('9223372036854775807')), int64_min: i64(extreme('-9223372036854775808')),
        },
      },
      ['rows'],
    );
  });

  it('constants expanded to the batch: classic exporter (ConstantOfShape, Equal, Where) and dynamo (Shape start/end, a class-token-like Concat)', async () => {
    const batch = sizeOf('a', 0, 'n');
    // torch's classic exporter turns expand(n, -1, -1, -1) into Expand to where(shape == -1, 1, shape).
    const classic: NodeSpec[] = [
      ...batch.nodes,
      { op: 'Concat', inputs: ['n', 'minus1', 'minus1', 'minus1'], output: 'spec', attrs: { axis: int(0) } },
      { op: 'Shape', inputs: ['spec'], output: 'spec_shape' },
      { op: 'ConstantOfShape', inputs: ['spec_shape'], output: 'ones', attrs: { value: tensorAttr(i64(1)) } },
      { op: 'Mul', inputs: ['ones', 'minus1'], output: 'minus_ones' },
      { op: 'Equal', inputs: ['spec', 'minus_ones'], output: 'is_free' },
      { op: 'Where', inputs: ['is_free', 'ones', 'spec'], output: 'expand_to' },
      { op: 'Expand', inputs: ['offset', 'expand_to'], output: 'offsets' },
      { op: 'Add', inputs: ['a', 'offsets'], output: 'classic' },
    ];
    // The dynamo exporter measures with Shape's start/end; a learned plane [1, 1, 1, 1] expanded
    // to [N, 1, H, W] and concatenated as a channel, as ViT concatenates its class token.
    const dynamo: NodeSpec[] = [
      { op: 'Shape', inputs: ['x'], output: 'batch', attrs: { start: int(0), end: int(1) } },
      { op: 'Shape', inputs: ['a'], output: 'hw', attrs: { start: int(-2) } },
      { op: 'Concat', inputs: ['batch', 'one', 'hw'], output: 'dyn_to', attrs: { axis: int(0) } },
      { op: 'Expand', inputs: ['plane', 'dyn_to'], output: 'planes' },
      { op: 'Concat', inputs: ['planes', 'a'], output: 'dynamo', attrs: { axis: int(1) } },
    ];
    await expectMatch(
      { opset: 18, nodes: [...STEM, ...classic, ...dynamo], inits: { ...STEM_INITS, ...batch.inits, minus1: i64(-1), one: i64(1), offset: weights([1, 4, 1, 1], 5), plane: weights([1, 1, 1, 1], 6) } },
      ['classic', 'dynamo'],
    );
  });

  it('Range and ConstantOfShape over measured sizes, Cast, Squeeze and Div on integers', async () => {
    const c = sizeOf('a', 1, 'c');
    await expectMatch(
      {
        nodes: [
          ...STEM,
          ...c.nodes,
          // A channel ramp 0, 1, ..., C-1 scaled by 1 / C, as a [1, C, 1, 1] per-channel factor.
          { op: 'Squeeze', inputs: ['c', 'axis0'], output: 'c_scalar' },
          { op: 'Range', inputs: ['zero', 'c_scalar', 'step'], output: 'ramp' },
          { op: 'Cast', inputs: ['ramp'], output: 'ramp_f', attrs: { to: int(1) } },
          { op: 'Cast', inputs: ['c_scalar'], output: 'c_f', attrs: { to: int(1) } },
          { op: 'Div', inputs: ['ramp_f', 'c_f'], output: 'ramp_scaled' },
          { op: 'Reshape', inputs: ['ramp_scaled', 'per_channel'], output: 'factor' },
          { op: 'Mul', inputs: ['a', 'factor'], output: 'ramped' },
          // A half-size bias map: ConstantOfShape of [N, C, H / 2 (integer), W] sliced to fit.
          { op: 'Shape', inputs: ['a'], output: 'a_shape' },
          { op: 'Div', inputs: ['a_shape', 'halve_h'], output: 'half_shape' },
          { op: 'ConstantOfShape', inputs: ['half_shape'], output: 'half_map', attrs: { value: tensorAttr({ shape: [1], floats: [0.25] }) } },
          { op: 'Concat', inputs: ['ramped', 'half_map'], output: 'stacked', attrs: { axis: int(2) } },
        ],
        inits: { ...STEM_INITS, ...c.inits, axis0: i64(0), zero: scalar(0), step: scalar(1), per_channel: i64(1, -1, 1, 1), halve_h: i64(1, 1, 2, 1) },
      },
      ['ramped', 'stacked'],
    );
  });

  it('an attention-like scale 1 / sqrt(C) from a measured size, and Mod with the divisor\'s sign (padding rows to a multiple of 4)', async () => {
    const c = sizeOf('a', 1, 'c');
    await expectMatch(
      {
        nodes: [
          ...STEM,
          ...c.nodes,
          { op: 'Cast', inputs: ['c'], output: 'c_f', attrs: { to: int(1) } },
          { op: 'Sqrt', inputs: ['c_f'], output: 'root' },
          { op: 'Div', inputs: ['unit', 'root'], output: 'scale' },
          { op: 'Mul', inputs: ['a', 'scale'], output: 'scaled' },
          // (-H) mod 4 rows more (plus one), from a ConstantOfShape of [N, C, rows, W].
          { op: 'Shape', inputs: ['a'], output: 'a_shape' },
          { op: 'Neg', inputs: ['a_shape'], output: 'negated' },
          { op: 'Mod', inputs: ['negated', 'four'], output: 'short' },
          { op: 'Add', inputs: ['short', 'one_row'], output: 'rows' },
          { op: 'Mul', inputs: ['rows', 'rows_only'], output: 'rows_spec' },
          { op: 'Mul', inputs: ['a_shape', 'keep_others'], output: 'others' },
          { op: 'Add', inputs: ['others', 'rows_spec'], output: 'pad_shape' },
          { op: 'ConstantOfShape', inputs: ['pad_shape'], output: 'pad_rows', attrs: { value: tensorAttr({ shape: [1], floats: [-1] }) } },
          { op: 'Concat', inputs: ['scaled', 'pad_rows'], output: 'padded', attrs: { axis: int(2) } },
        ],
        inits: {
          ...STEM_INITS, ...c.inits, unit: { shape: [], floats: [1] }, four: i64(4), one_row: i64(1),
          rows_only: i64(0, 0, 1, 0), keep_others: i64(1, 1, 0, 1),
        },
      },
      ['scaled', 'padded'],
    );
  });

  it('input gradients through a folded reshape and an expanded constant agree with central finite differences; forwardFrom measures its given tensor', async () => {
    const batch = sizeOf('gap', 0, 'n');
    const { file } = save({
      nodes: [
        ...STEM,
        { op: 'Shape', inputs: ['a'], output: 'a_shape' },
        { op: 'Expand', inputs: ['offset', 'a_shape'], output: 'offsets' },
        { op: 'Mul', inputs: ['a', 'offsets'], output: 'scaled' },
        { op: 'GlobalAveragePool', inputs: ['scaled'], output: 'gap' },
        ...batch.nodes,
        { op: 'Concat', inputs: ['n', 'minus1'], output: 'target', attrs: { axis: int(0) } },
        { op: 'Reshape', inputs: ['gap', 'target'], output: 'flat' },
        { op: 'Gemm', inputs: ['flat', 'fc'], output: 'logits', attrs: { transB: int(1) } },
      ],
      inits: { ...STEM_INITS, ...batch.inits, minus1: i64(-1), offset: weights([1, 4, 1, 1], 7), fc: weights([3, 4], 8) },
    });
    const model = await loadModelFile(file, { inputConvention: RAW });
    const shape: [number, number, number, number] = [2, 6, 5, 3];
    const probe = tf.tensor2d(randomArray(6, 9), [2, 3]);
    const f = (x: tf.Tensor) => tf.sum(tf.mul(model.forward(x as tf.Tensor4D, ['logits']).logits, probe));
    const x = randomArray(2 * 6 * 5 * 3, 10, 1);
    const value = async (v: Float32Array) => {
      const t = tf.tidy(() => f(tf.tensor4d(v, shape)));
      const [out] = await t.data();
      t.dispose();
      return out;
    };
    const gradT = tf.tidy(() => tf.grad(f)(tf.tensor4d(x, shape)));
    const grad = (await gradT.data()) as Float32Array;
    gradT.dispose();
    const eps = 1e-2;
    // Every 7th pixel value of both images (the second image's gradient needs the batch of 2 right).
    for (let i = 0; i < x.length; i += 7) {
      const up = Float32Array.from(x);
      const down = Float32Array.from(x);
      up[i] += eps;
      down[i] -= eps;
      const numeric = ((await value(up)) - (await value(down))) / (2 * eps);
      expect(Math.abs(grad[i] - numeric), `element ${i}`).toBeLessThan(1e-3 + 1e-2 * Math.abs(numeric));
    }
    // A pass started from an intermediate tensor measures the batch of that tensor.
    const fromGap = tf.tidy(() => {
      const { gap, logits } = model.forward(tf.tensor4d(x, shape), ['gap', 'logits']);
      return tf.sub(model.forwardFrom!({ gap }, ['logits']).logits, logits).abs().max();
    });
    expect((await fromGap.data())[0]).toBeLessThan(1e-6);
    fromGap.dispose();
    probe.dispose();
    model.dispose();
  });

  it('shape subgraphs on constants only fold once at load, Identity over initializers included', async () => {
    const { file } = save({
      nodes: [
        ...STEM,
        { op: 'Identity', inputs: ['offset'], output: 'shared' },
        { op: 'Unsqueeze', inputs: ['shared', 'axes'], output: 'offset4', attrs: {} },
        { op: 'Add', inputs: ['a', 'offset4'], output: 'y' },
      ],
      inits: { ...STEM_INITS, offset: weights([4, 1, 1], 6), axes: i64(0) },
    });
    const model = (await loadModelFile(file, { inputConvention: RAW })) as GraphModel;
    try {
      // Only the computed tensors remain as layers: the folded ones are constants.
      expect(model.layers.map((l) => l.name)).toEqual(['conv', 'a', 'y']);
    } finally {
      model.dispose();
    }
  });
});

describe('shape subgraphs that cannot be folded give one clear error', () => {
  beforeAll(async () => {
    await initBackend();
  });

  async function specError(spec: ModelSpec): Promise<Error> {
    const { file } = save(spec);
    const err = await loadError(file, { inputConvention: RAW });
    expect(err).toBeInstanceOf(ModelFormatError);
    expect(err.message).toContain(file);
    return err;
  }

  it('a shape-only operator reading an activation names the node and the tensor', async () => {
    const err = await specError({ nodes: [...STEM, { op: 'ConstantOfShape', inputs: ['a'], output: 'y' }], inits: STEM_INITS });
    expect(err.message).toMatch(/node constantofshape_2 \(ConstantOfShape\).*only on constants and shapes.*computed tensor "a"/);
  });

  it('a Gather index outside the measured shape names the node and the input size', async () => {
    const size = sizeOf('a', 5, 'n');
    const err = await specError({
      nodes: [...STEM, ...size.nodes, { op: 'Concat', inputs: ['n', 'minus1'], output: 't', attrs: { axis: int(0) } }, { op: 'Reshape', inputs: ['a', 't'], output: 'y' }],
      inits: { ...STEM_INITS, ...size.inits, minus1: i64(-1) },
    });
    expect(err.message).toMatch(/input 12x12.*node gather_3 \(Gather\): index 5 is out of range for axis 0 of size 4/);
  });

  it('a folded value too large to compute at load time is refused', async () => {
    const err = await specError({
      nodes: [...STEM, { op: 'ConstantOfShape', inputs: ['huge'], output: 'big' }, { op: 'Add', inputs: ['a', 'big'], output: 'y' }],
      inits: { ...STEM_INITS, huge: i64(1, 4, 4096, 4096) },
    });
    expect(err.message).toMatch(/ConstantOfShape.*too large to compute at load time/);
  });

  it('300 shape subgraphs with random integer constants load and run, or fail with a ModelFormatError', async () => {
    const batch = sizeOf('a', 0, 'n');
    const nodes: NodeSpec[] = [
      ...STEM,
      ...batch.nodes,
      { op: 'Shape', inputs: ['a'], output: 'full' },
      { op: 'Slice', inputs: ['full', 'from', 'to', 'axes', 'steps'], output: 'part' },
      { op: 'Range', inputs: ['r0', 'r1', 'r2'], output: 'ramp' },
      { op: 'Concat', inputs: ['n', 'part', 'ramp'], output: 'spec', attrs: { axis: int(0) } },
      { op: 'Reshape', inputs: ['a', 'spec'], output: 'tokens' },
      { op: 'Equal', inputs: ['spec', 'minus1'], output: 'is_free' },
      { op: 'Where', inputs: ['is_free', 'one', 'spec'], output: 'expand_to' },
      { op: 'Expand', inputs: ['offset', 'expand_to'], output: 'offsets' },
      { op: 'Add', inputs: ['tokens', 'offsets'], output: 'y' },
    ];
    // Unmutated, the subgraph computes [N, C, 144]: the 12 x 12 map as tokens plus an expanded offset.
    const ints64: Record<string, number[]> = { from: [1], to: [2], axes: [0], steps: [1], r0: [144], r1: [145], r2: [1], minus1: [-1], one: [1] };
    let state = 12345;
    const rand = (k: number) => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state % k;
    };
    const outcomes = { ran: 0, refused: 0 };
    for (let trial = 0; trial < 300; trial++) {
      // One or two constants changed: to a small integer or an extreme one.
      const inits: Record<string, InitSpec> = { ...STEM_INITS, ...batch.inits, offset: weights([4, 1], 5) };
      const values = { ...ints64 };
      const names = Object.keys(ints64);
      for (let k = 0; k <= rand(2); k++) {
        const name = names[rand(names.length)];
        values[name] = values[name].map(() => [rand(13) - 6, rand(300), 2 ** 40, -(2 ** 40)][rand(4)]);
      }
      for (const [name, v] of Object.entries(values)) inits[name] = name.startsWith('r') ? scalar(v[0]) : i64(...v);
      const { file } = save({ nodes, inits, outputs: ['y'] });
      try {
        const model = await loadModelFile(file, { inputConvention: RAW });
        try {
          tf.dispose(Object.values(tf.tidy(() => model.forward(tf.zeros([2, 12, 12, 3]), ['y']))));
          outcomes.ran++;
        } finally {
          model.dispose();
        }
      } catch (err) {
        expect(err, (err as Error).stack).toBeInstanceOf(ModelFormatError);
        outcomes.refused++;
      }
    }
    // Both outcomes occur: the constants do reach valid and invalid graphs.
    expect(outcomes.ran).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
  });
});
