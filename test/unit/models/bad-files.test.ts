// Bad model files end in a clear ModelFormatError (naming the problem) and never in a crash, a
// hang, a giant allocation or leaked tensors; files built to decode into gigabytes (packed int64
// lists, empty messages, deep nesting) and a 0-byte file are refused within a bound on time and
// memory; a fuzz run loads 1,000 mutated small ONNX files.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import onnxProto from 'onnx-proto';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/engine/backend';
import { ModelFormatError } from '../../../src/main/engine/errors';
import { loadModelFile } from '../../../src/main/engine/models/load';
import { fuzzedLoad, loadError } from './load-error';
import { resnet18Graph } from '../../../src/main/engine/models/resnet18';
import { encodeSafetensors, type RawEntry } from '../../helpers/safetensors';
import { tempDir } from '../../helpers/temp';
import { buildModel, float, int, ints, randomArray, weights, withExternalData, type ModelSpec } from './onnx-builder';
import { SAMPLES, VGG_FILE } from './reference';

const { onnx } = onnxProto;
const dir = tempDir();
let count = 0;
function file(bytes: Uint8Array | string, ext = '.onnx'): string {
  const f = path.join(dir, `model-${count++}${ext}`);
  writeFileSync(f, bytes);
  return f;
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
    await expectFormatError(Uint8Array.of(0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0), /not a readable HDF5 file/, '.h5');
    await expectFormatError(JSON.stringify({ modelTopology: {}, weightsManifest: [] }), /no class_name; it is no Keras model/, '.json');
    await expect(loadModelFile(path.join(dir, 'missing.onnx'))).rejects.toThrow(/no such file/);
  });

  it('an unsupported operator is named with its node', async () => {
    const spec: ModelSpec = { ...SMALL, nodes: [...SMALL.nodes, { op: 'GridSample', inputs: ['relu', 'relu'], output: 'up' }] };
    await expectFormatError(buildModel(spec), /node gridsample_8 \(GridSample\): operator "GridSample" is not supported/);
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

/** A protobuf varint. */
function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

/** Field `number` (length-delimited) holding `body`. */
function lenField(number: number, body: Uint8Array): Uint8Array {
  const head = Uint8Array.from([...varint(number * 8 + 2), ...varint(body.length)]);
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

/** `count` copies of `unit`. */
function repeat(unit: number[], count: number): Uint8Array {
  const out = new Uint8Array(unit.length * count);
  if (unit.length === 1) return out.fill(unit[0]);
  for (let i = 0; i < count; i++) for (let k = 0; k < unit.length; k++) out[i * unit.length + k] = unit[k];
  return out;
}

/**
 * A valid small model followed by a second `graph` field (the decoder keeps the last one) whose
 * payload is built to decode into one JavaScript value per byte or two.
 */
function amplified(graph: Uint8Array): Uint8Array {
  const head = buildModel(SMALL);
  const tail = lenField(7, graph);
  const out = new Uint8Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}

const MB = 2 ** 20;

describe('files built to exhaust memory are refused before decoding, within a time and memory bound', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('packed int64 dims, int64 data and attribute ints, empty messages and strings, deep nesting, 0 bytes', async () => {
    const size = 32 * MB; // the size the issue measured (100 s, +2.4 GB); the other kinds at 8 MB
    const small = 8 * MB;
    const cases: { name: string; bytes: () => Uint8Array; message: RegExp }[] = [
      // initializer (graph field 5) whose dims (tensor field 1, packed) are 32 million one-byte values
      { name: 'packed int64 dims, 32 MB', bytes: () => amplified(lenField(5, lenField(1, repeat([1], size)))), message: /int64 values so far, e\.g\. tensor dims/ },
      { name: 'packed int64_data, 8 MB', bytes: () => amplified(lenField(5, lenField(7, repeat([1], small)))), message: /int64 values/ },
      // a node (graph field 1) with an attribute (node field 5) of 8 million ints (attribute field 8)
      { name: 'packed attribute ints, 8 MB', bytes: () => amplified(lenField(1, lenField(5, lenField(8, repeat([1], small))))), message: /int64 values/ },
      // 4 million empty nodes: two bytes each
      { name: 'empty nodes, 8 MB', bytes: () => amplified(repeat([0x0a, 0x00], small / 2)), message: /protobuf messages so far/ },
      // one node with 4 million empty input names
      { name: 'empty strings, 8 MB', bytes: () => amplified(lenField(1, repeat([0x0a, 0x00], small / 2))), message: /more than \d+ MB of memory/ },
      // graphs inside attributes inside nodes inside graphs ..., 10,000 levels
      {
        name: 'nesting 10,000 levels',
        bytes: () => {
          let g: Uint8Array = new Uint8Array(0);
          for (let i = 0; i < 10_000; i++) g = lenField(1, lenField(5, lenField(6, g)));
          return amplified(g);
        },
        message: /nest more than 64 levels/,
      },
      {
        name: 'a tensor of 1,000 dims',
        bytes: () => {
          const node = lenField(1, lenField(4, new TextEncoder().encode('Relu')));
          const init = lenField(5, Uint8Array.from([...lenField(8, new TextEncoder().encode('w')), ...lenField(1, repeat([1], 1000))]));
          return amplified(Uint8Array.from([...node, ...init]));
        },
        message: /has 1000 dimensions; at most 16/,
      },
      { name: 'empty (0 bytes)', bytes: () => new Uint8Array(0), message: /is empty/ },
    ];
    // Loaded in a child process whose JavaScript heap is capped at 256 MB (the 32 MB files used to
    // take +2.4 GB): it reports, per file, the time, the error and its peak resident memory so far.
    const files = cases.map((c) => file(c.bytes()));
    const script = `
      import { loadModelFile } from ${JSON.stringify(path.resolve('src/main/engine/models/load.ts'))};
      const baseMB = process.resourceUsage().maxRSS / 1024;
      const out = [];
      for (const f of ${JSON.stringify(files)}) {
        const t0 = performance.now();
        let error = null;
        try { (await loadModelFile(f)).dispose(); } catch (e) { error = { name: e.constructor.name, message: e.message }; }
        out.push({ ms: performance.now() - t0, error, maxRssMB: process.resourceUsage().maxRSS / 1024 });
      }
      console.log(JSON.stringify({ baseMB, out }));`;
    const r = spawnSync(process.execPath, ['--max-old-space-size=256', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', cwd: process.cwd(), timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const { baseMB, out } = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { baseMB: number; out: { ms: number; error: { name: string; message: string } | null; maxRssMB: number }[] };
    const lines: string[] = [];
    out.forEach((o, i) => {
      const c = cases[i];
      const sizeMB = statSync(files[i]).size / MB;
      lines.push(`  ${c.name.padEnd(30)} ${sizeMB.toFixed(1).padStart(5)} MB file  ${o.ms.toFixed(0).padStart(5)} ms  peak RSS ${o.maxRssMB.toFixed(0)} MB (module baseline ${baseMB.toFixed(0)} MB)`);
      expect(o.error, c.name).toMatchObject({ name: 'ModelFormatError', message: expect.stringMatching(c.message) });
      expect(o.ms, c.name).toBeLessThan(3000);
      // The file is held once (a view of what was read, not a copy); refusing it adds little on top.
      expect(o.maxRssMB - baseMB, c.name).toBeLessThan(sizeMB + 96);
    });
    console.log(`amplification files (each refused; time and the process's peak memory so far):\n${lines.join('\n')}`);
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
      outcomes[await fuzzedLoad(f, () => `mutation ${i} (${f})`)]++;
      slowest = Math.max(slowest, performance.now() - started);
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(outcomes.loaded).toBeGreaterThan(0);
    expect(outcomes.rejected).toBeGreaterThan(0);
    expect(slowest).toBeLessThan(5000);
  });
});

describe('bad external data', () => {
  beforeAll(async () => {
    await initBackend();
  });

  /** SMALL with its weights in `data.bin` beside it; `edit` changes w1's external_data entries. */
  function externalModel(folder: string, edit: (entries: Record<string, string>) => Record<string, string> = (e) => e, data?: (d: Uint8Array) => Uint8Array): string {
    const ext = withExternalData(buildModel(SMALL), 'data.bin');
    const m = onnx.ModelProto.decode(ext.model);
    const w1 = m.graph!.initializer!.find((t) => t.name === 'w1')!;
    const entries = edit(Object.fromEntries(w1.externalData!.map((e) => [e.key!, e.value!])));
    w1.externalData = Object.entries(entries).map(([key, value]) => ({ key, value }));
    const modelDir = path.join(dir, folder);
    mkdirSync(modelDir, { recursive: true });
    writeFileSync(path.join(modelDir, 'data.bin'), data ? data(ext.data) : ext.data);
    const f = path.join(modelDir, 'model.onnx');
    writeFileSync(f, onnx.ModelProto.encode(m).finish());
    return f;
  }

  async function expectExternalError(f: string, message: RegExp): Promise<void> {
    const err = await loadError(f);
    expect(err).toBeInstanceOf(ModelFormatError);
    // One message naming the model file, the tensor and the problem.
    expect(err.message).toContain(f);
    expect(err.message).toMatch(message);
  }

  it('a valid model with external data loads; missing, short, escaping or inconsistent data is named', async () => {
    (await loadModelFile(externalModel('ok'))).dispose();
    writeFileSync(path.join(dir, 'outside.bin'), new Uint8Array(4096));
    const cases: [string, (e: Record<string, string>) => Record<string, string>, RegExp][] = [
      ['missing', (e) => ({ ...e, location: 'nope.bin' }), /external data file "nope\.bin" of initializer "w1": it does not exist \(looked for .*nope\.bin\)/],
      ['parent', (e) => ({ ...e, location: '../outside.bin' }), /"\.\.\/outside\.bin" of initializer "w1": the location leads outside the model's folder/],
      ['nested-parent', (e) => ({ ...e, location: 'sub/../../outside.bin' }), /leads outside the model's folder/],
      ['absolute', (e) => ({ ...e, location: path.join(dir, 'outside.bin') }), /leads outside the model's folder/],
      ['symlink', (e) => ({ ...e, location: 'link.bin' }), /"link\.bin" of initializer "w1": the location leads outside/],
      ['no-location', ({ location: _l, ...e }) => e, /initializer "w1" keeps its data in an external file but does not say which/],
      ['bad-offset', (e) => ({ ...e, offset: '-8' }), /"offset" is not a byte count \("-8"\)/],
      ['bad-length', (e) => ({ ...e, length: '100' }), /"length" is 100 bytes, but the tensor's shape and type take 432/],
      ['past-end', (e) => ({ ...e, offset: '1000000' }), /"data\.bin" of initializer "w1" is \d+ bytes, too short for 432 bytes at offset 1000000/],
      ['folder', (e) => ({ ...e, location: '.' }), /leads outside the model's folder|is not a file/],
    ];
    for (const [name, edit, message] of cases) {
      const f = externalModel(`case-${name}`, edit);
      if (name === 'symlink') symlinkSync(path.join(dir, 'outside.bin'), path.join(path.dirname(f), 'link.bin'));
      await expectExternalError(f, message);
    }
    // A data file cut short after the export.
    await expectExternalError(externalModel('truncated', (e) => e, (d) => d.subarray(0, 500)), /too short for \d+ bytes at offset \d+ \(the file is truncated/);
    // Every tensor pointing at the same bytes cannot read more than the files hold.
    const overlapping = externalModel('overlap', (e) => e, (d) => d.subarray(0, 432));
    const m = onnx.ModelProto.decode(readFileSync(overlapping));
    for (const t of m.graph!.initializer!) t.externalData = [{ key: 'location', value: 'data.bin' }, { key: 'length', value: String(4 * t.dims!.reduce((a, b) => Number(a) * Number(b), 1)) }];
    writeFileSync(overlapping, onnx.ModelProto.encode(m).finish());
    await expectExternalError(overlapping, /read more bytes than their external files hold/);
  });

  it('200 models with random external_data entries and data files: each loads or gives a ModelFormatError', async () => {
    let state = 777;
    const rand = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
    const outcomes = { loaded: 0, rejected: 0 };
    for (let i = 0; i < 200; i++) {
      const f = externalModel(
        `fuzz-${i}`,
        (e) => {
          const out = { ...e };
          const key = pick(['location', 'offset', 'length', 'checksum']);
          out[key] = pick(['', '0', '64', '431', '432', '-1', '1e3', '9007199254740993', 'data.bin', '../data.bin', '/', 'data.bin\0x', 'x'.repeat(300), String(Math.floor(rand() * 2000))]);
          return out;
        },
        (d) => (rand() < 0.3 ? d.subarray(0, Math.floor(rand() * d.length)) : d),
      );
      try {
        (await loadModelFile(f)).dispose();
        outcomes.loaded++;
      } catch (err) {
        if (!(err instanceof ModelFormatError)) throw new Error(`case ${i} (${f}) threw ${String(err)}`, { cause: err });
        outcomes.rejected++;
      }
    }
    expect(outcomes.loaded).toBeGreaterThan(0);
    expect(outcomes.rejected).toBeGreaterThan(0);
  });
});

describe('bad safetensors files', () => {
  beforeAll(async () => {
    await initBackend();
  });

  const tensor = (shape: number[]): RawEntry => ({ dtype: 'F32', shape, bytes: new Uint8Array(4 * shape.reduce((a, b) => a * b, 1)) });
  /** A header written by hand, then `data` bytes. */
  const handmade = (header: unknown, data = 16): Uint8Array => {
    const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
    const out = new Uint8Array(8 + json.length + data);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    return out;
  };

  it('damaged headers, byte ranges and shapes are named before anything is allocated', async () => {
    const good = encodeSafetensors({ a: tensor([2, 2]), b: tensor([3]) });
    const cases: [Uint8Array, RegExp][] = [
      [good.subarray(0, good.length - 5), /tensor "b" has byte range \[16, 28\) for shape \[3\] of F32 in a data section of 23 bytes/],
      [handmade({ a: { dtype: 'F32', shape: [1e6, 1e6], data_offsets: [0, 16] } }), /tensor "a" has huge dimensions/],
      [handmade({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }), /tensor "a" has no valid shape/],
      [handmade({ a: { dtype: 'F32', shape: [2], data_offsets: [0] } }), /tensor "a" has no valid data_offsets/],
      [handmade({ a: { dtype: 'Q4', shape: [2], data_offsets: [0, 8] } }), /tensor "a" has an unknown dtype "Q4"/],
      [handmade({ a: { shape: [2], data_offsets: [0, 8] } }), /tensor "a" has no dtype/],
      [handmade({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }), /tensors "a" and "b" overlap/],
      [handmade('{"a": {"dtype": "F32", '), /the header is not JSON/],
      [Uint8Array.from([...handmade({}).subarray(0, 9), 0xff, 0xfe, ...new Uint8Array(40)]), /not a model file|not a readable safetensors file/],
    ];
    for (const [bytes, message] of cases) {
      const err = await loadError(file(bytes, '.safetensors'));
      expect(err, String(message)).toBeInstanceOf(ModelFormatError);
      expect(err.message).toMatch(/model-\d+\.safetensors/);
      expect(err.message).toMatch(message);
    }
  });

  it('1,000 mutated small ResNet-18 state dicts: each gives a ModelFormatError naming the file, quickly', async () => {
    // A full ResNet-18 is 45 MB; its header (where the damage that matters lands) with tiny tensors
    // exercises the same checks: a mutated file must fail as a safetensors file or as a state dict.
    const entries: Record<string, RawEntry> = {};
    for (const [key, c] of resnet18Graph(2).initializers) entries[key] = tensor(c.shape.map((d) => Math.min(d, 2)));
    const base = encodeSafetensors(entries);
    let state = 4242;
    const rand = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    let slowest = 0;
    for (let i = 0; i < 1000; i++) {
      const f = file(mutate(base, rand), '.safetensors');
      const started = performance.now();
      const err = await loadError(f);
      if (!(err instanceof ModelFormatError)) throw new Error(`mutation ${i} (${f}) threw ${String(err)}`, { cause: err });
      expect(err.message).toContain(f);
      slowest = Math.max(slowest, performance.now() - started);
    }
    expect(slowest).toBeLessThan(2000);
  });
});
