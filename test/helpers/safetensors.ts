// Writes safetensors files in tests (a u64 header length, a JSON header, the data) and makes a
// torchvision-keyed ResNet-18 state dict with random weights that keep activations of order 1.
import type { NamedTensor } from '../../src/main/engine/formats/safetensors';
import { resnet18Graph } from '../../src/main/engine/models/resnet18';
import { randomArray } from '../unit/models/onnx-builder';

export interface RawEntry {
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}

export function encodeSafetensors(entries: Record<string, RawEntry>, metadata: Record<string, string> = { format: 'pt' }): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, e] of Object.entries(entries)) {
    header[name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + e.bytes.length] };
    offset += e.bytes.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const e of Object.values(entries)) {
    out.set(e.bytes, at);
    at += e.bytes.length;
  }
  return out;
}

export const f32Entry = (t: NamedTensor): RawEntry => ({ dtype: 'F32', shape: t.shape, bytes: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) });

/** A state dict as torch saves it: the float tensors, plus each batch norm's I64 counter. */
export function stateDictFile(tensors: ReadonlyMap<string, NamedTensor>): Uint8Array {
  const entries: Record<string, RawEntry> = {};
  for (const [key, t] of tensors) {
    entries[key] = f32Entry(t);
    if (key.endsWith('running_var')) entries[key.replace('running_var', 'num_batches_tracked')] = { dtype: 'I64', shape: [], bytes: new Uint8Array(8) };
  }
  return encodeSafetensors(entries);
}

/** Seeded weights for every ResNet-18 key, scaled so that activations stay of order 1 through 18 layers. */
export function resnet18StateDict(seed = 1, classes = 1000): Map<string, NamedTensor> {
  const out = new Map<string, NamedTensor>();
  let s = seed;
  for (const [key, c] of resnet18Graph(classes).initializers) {
    const n = c.shape.reduce((a, b) => a * b, 1);
    const u = randomArray(n, s++);
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
