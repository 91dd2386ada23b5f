// ResNet-18 with a user's weights: a torchvision-keyed state dict saved as safetensors loads into
// the built-in architecture, and the network then computes what onnxruntime-node computes for the
// same graph and weights (an independent check of every conv, stride, pad and shortcut).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/engine/backend';
import type { NamedTensor } from '../../../src/main/engine/formats/safetensors';
import { createResNet18, loadResNet18, resnet18Graph, TORCHVISION_CONVENTION } from '../../../src/main/engine/models/resnet18';
import { buildModel, float, int, ints, randomArray, type Attr } from '../models/onnx-builder';
import { ortSession, relativeError, runOrt } from '../models/reference';

/** A state dict with weights that keep activations of order 1 through 18 layers. */
function stateDict(): Map<string, NamedTensor> {
  const out = new Map<string, NamedTensor>();
  let seed = 1;
  for (const [key, c] of resnet18Graph().initializers) {
    const n = c.shape.reduce((a, b) => a * b, 1);
    const u = randomArray(n, seed++);
    const fanIn = c.shape.slice(1).reduce((a, b) => a * b, 1);
    const data = key.endsWith('running_var')
      ? u.map((v) => 1 + 0.5 * Math.abs(v))
      : key.endsWith('.weight') && c.shape.length === 1
        ? u.map((v) => 1 + 0.1 * v)
        : c.shape.length === 1
          ? u.map((v) => 0.1 * v)
          : u.map((v) => v * Math.sqrt(6 / fanIn));
    out.set(key, { shape: c.shape, data });
  }
  return out;
}

/** The safetensors layout: u64 header length, JSON header, data (with one int64 BN counter). */
function writeSafetensors(file: string, tensors: Map<string, NamedTensor>): void {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    parts.push(new Uint8Array(t.data.buffer.slice(0)));
    offset += t.data.byteLength;
  }
  header['bn1.num_batches_tracked'] = { dtype: 'I64', shape: [], data_offsets: [offset, offset + 8] };
  parts.push(new Uint8Array(8));
  const json = new TextEncoder().encode(JSON.stringify(header));
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(json.length), true);
  writeFileSync(file, Buffer.concat([len, json, ...parts]));
}

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
    writeSafetensors(file, weights);
    const model = await loadResNet18(file);
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
});
