// ResNet-18 with a user's weights: a torchvision-keyed state dict saved as safetensors loads into
// the built-in architecture, and the network then computes what onnxruntime-node computes for the
// same graph and weights (an independent check of every conv, stride, pad and shortcut).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/engine/backend';
import { ModelFormatError } from '../../../src/main/engine/errors';
import { inspectModelFile, loadModelFile } from '../../../src/main/engine/models/load';
import { createResNet18, resnet18Graph, TORCHVISION_CONVENTION } from '../../../src/main/engine/models/resnet18';
import { floatToHalfBits } from '../../helpers/half';
import { encodeSafetensors, f32Entry, resnet18StateDict as stateDict, stateDictFile } from '../../helpers/safetensors';
import { buildModel, float, int, ints, type Attr } from '../models/onnx-builder';
import { ortSession, relativeError, runOrt } from '../models/reference';

function onnxAttr(a: { kind: string; value?: unknown }): Attr {
  if (a.kind === 'ints') return ints(a.value as number[]);
  if (a.kind === 'float') return float(a.value as number);
  return int(a.value as number);
}

describe('ResNet-18 with user weights', () => {
  let dir = '';
  beforeAll(async () => {
    await initBackend();
    dir = mkdtempSync(path.join(os.tmpdir(), 'resnet18-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a safetensors state dict and matches onnxruntime on the same graph', { timeout: 120_000 }, async () => {
    const weights = stateDict();
    const file = path.join(dir, 'resnet18.safetensors');
    writeFileSync(file, stateDictFile(weights));
    const model = await loadModelFile(file);
    expect(model.format).toBe('safetensors');
    expect(model.inputConvention).toEqual(TORCHVISION_CONVENTION);
    const probe = '/layer2/layer2.0/Add_output_0';
    const pixels = tf.randomUniform([2, 64, 64, 3], 0, 255, 'float32', 7) as tf.Tensor4D;
    const ours = tf.tidy(() => {
      const out = model.forward(pixels, ['logits', probe]);
      return { logits: { data: out.logits.dataSync() as Float32Array, shape: out.logits.shape }, probe: { data: out[probe].dataSync() as Float32Array, shape: out[probe].shape } };
    });

    const g = resnet18Graph();
    const rename = (t: string) => (t === 'input' ? 'x' : t);
    const onnx = buildModel({
      nodes: g.nodes.map((n) => ({ op: n.op, inputs: n.inputs.map(rename), output: n.outputs[0], attrs: Object.fromEntries(Object.entries(n.attrs).map(([k, a]) => [k, onnxAttr(a as never)])) })),
      inits: Object.fromEntries([...weights].map(([k, t]) => [k, { shape: t.shape, floats: t.data }])),
      outputs: ['logits', probe],
    });
    const { mean, std } = TORCHVISION_CONVENTION;
    const normalized = tf.tidy(() => tf.div(tf.sub(tf.div(pixels, 255), mean), std).dataSync() as Float32Array);
    const ref = await runOrt(await ortSession(onnx), normalized, [2, 64, 64, 3], ['logits', probe]);
    expect(relativeError(ours.logits, ref.logits)).toBeLessThan(1e-4);
    expect(relativeError(ours.probe, ref[probe])).toBeLessThan(1e-4);
    pixels.dispose();
    model.dispose();
  });

  it('names what is wrong with a state dict of another network', () => {
    const weights = stateDict();
    weights.delete('layer4.1.bn2.bias');
    weights.set('layer4.2.conv1.weight', { shape: [512, 512, 3, 3], data: new Float32Array(512 * 512 * 9) });
    expect(() => createResNet18({ weights })).toThrow(/missing layer4\.1\.bn2\.bias; unexpected layer4\.2\.conv1\.weight/);
    const bad = stateDict();
    bad.set('fc.bias', { shape: [10], data: new Float32Array(10) });
    expect(() => createResNet18({ weights: bad })).toThrow(/fc\.bias has shape \[10\], expected \[1000\]/);
  });

  it('inspects as a safetensors ResNet-18 with torchvision\'s convention, 8 residual adds, 1000 classes', async () => {
    const file = path.join(dir, 'inspect.safetensors');
    writeFileSync(file, stateDictFile(stateDict()));
    const info = await inspectModelFile(file);
    expect(info).toMatchObject({ format: 'safetensors', name: 'inspect', inputConvention: TORCHVISION_CONVENTION, conventionGuessed: false });
    expect(info.layers.filter((l) => l.op === 'Add')).toHaveLength(8);
    expect(info.layers.at(-1)).toMatchObject({ name: 'logits', shape: [1000] });
  });

  it('a float16 state dict with DataParallel\'s "module." prefix and 10 classes computes what its float32 original does, to float16 precision', { timeout: 60_000 }, async () => {
    const weights = stateDict(5, 10);
    const entries = Object.fromEntries([...weights].map(([k, t]) => [`module.${k}`, { dtype: 'F16', shape: t.shape, bytes: new Uint8Array(Uint16Array.from(t.data, floatToHalfBits).buffer) }]));
    const half = path.join(dir, 'half.safetensors');
    const full = path.join(dir, 'full.safetensors');
    writeFileSync(half, encodeSafetensors(entries));
    writeFileSync(full, encodeSafetensors(Object.fromEntries([...weights].map(([k, t]) => [k, f32Entry(t)]))));
    const [a, b] = [await loadModelFile(half), await loadModelFile(full)];
    const pixels = tf.randomUniform([1, 64, 64, 3], 0, 255, 'float32', 3) as tf.Tensor4D;
    const [ha, hb] = tf.tidy(() => [a, b].map((m) => m.forward(pixels, ['logits']).logits.dataSync() as Float32Array));
    expect(ha).toHaveLength(10);
    const error = relativeError({ data: ha, shape: [1, 10] }, { data: hb, dims: [1, 10] });
    expect(error).toBeGreaterThan(0); // the weights were rounded ...
    expect(error).toBeLessThan(1e-2); // ... to float16's 11 bits
    tf.dispose(pixels);
    a.dispose();
    b.dispose();
  });

  it('a state dict of another network, an incomplete one or one with integer weights gives one error naming the file', async () => {
    const write = (name: string, bytes: Uint8Array) => {
      const f = path.join(dir, name);
      writeFileSync(f, bytes);
      return f;
    };
    const expectError = async (f: string, message: RegExp) => {
      const err = await loadModelFile(f).then((m) => (m.dispose(), null), (e: Error) => e);
      expect(err).toBeInstanceOf(ModelFormatError);
      expect(err!.message).toContain(f);
      expect(err!.message).toMatch(message);
    };
    const weights = stateDict();
    const only = (keep: (k: string) => boolean) => new Map([...weights].filter(([k]) => keep(k)));
    await expectError(write('other.safetensors', encodeSafetensors({ 'encoder.weight': f32Entry({ shape: [2], data: new Float32Array(2) }) })), /not a torchvision ResNet-18 state dict .*its keys begin encoder\.weight/);
    const bottleneck = only(() => true);
    bottleneck.set('layer1.0.conv3.weight', { shape: [256, 64, 1, 1], data: new Float32Array(256 * 64) });
    await expectError(write('resnet50.safetensors', stateDictFile(bottleneck)), /bottleneck blocks \(ResNet-50 or deeper\), not ResNet-18/);
    await expectError(write('partial.safetensors', stateDictFile(only((k) => !k.startsWith('layer4')))), /missing layer4\.0\.conv1\.weight, .*, \.\.\. \(25\)/);
    const entries = Object.fromEntries([...weights].map(([k, t]) => [k, f32Entry(t)]));
    entries['layer3.1.bn1.bias'] = { dtype: 'I8', shape: [256], bytes: new Uint8Array(256) };
    await expectError(write('int8.safetensors', encodeSafetensors(entries)), /missing layer3\.1\.bn1\.bias; \(not floating point: layer3\.1\.bn1\.bias is I8\)/);
  });
});
