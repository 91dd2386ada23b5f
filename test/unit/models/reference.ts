// Shared material of the model tests: paths to ../shared, onnxruntime-node as the independent
// reference implementation, and comparison of our NHWC tensors with its NCHW ones.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const SHARED = path.resolve(REPO, '../shared');
export const VGG_FILE = path.join(SHARED, 'models/vgg19_features_to_pool3_caffe_rgb.onnx');
export const RESNET_FILE = path.join(SHARED, 'models/resnet50_keras_imagenet.onnx');
export const SAMPLES = path.join(SHARED, 'data/imagenet-samples');

/** A copy of an ONNX model that also returns the named intermediate tensors as graph outputs. */
export function withExtraOutputs(model: Uint8Array, names: readonly string[]): Uint8Array {
  const m = onnx.ModelProto.decode(model);
  for (const name of names) m.graph!.output!.push(onnx.ValueInfoProto.create({ name }));
  return onnx.ModelProto.encode(m).finish();
}

export async function ortSession(model: string | Uint8Array): Promise<ort.InferenceSession> {
  return typeof model === 'string' ? ort.InferenceSession.create(model) : ort.InferenceSession.create(model);
}

/** NHWC pixel data → the NCHW tensor ORT takes. */
export function toNCHW(data: Float32Array, [n, h, w, c]: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let k = 0; k < c; k++) out[((b * c + k) * h + y) * w + x] = data[((b * h + y) * w + x) * c + k];
  return out;
}

export async function runOrt(
  session: ort.InferenceSession,
  nhwc: Float32Array,
  shape: readonly number[],
  outputs: readonly string[],
): Promise<Record<string, { data: Float32Array; dims: readonly number[] }>> {
  const [n, h, w, c] = shape;
  const input = new ort.Tensor('float32', toNCHW(nhwc, shape), [n, c, h, w]);
  const res = await session.run({ [session.inputNames[0]]: input }, [...outputs]);
  return Object.fromEntries(outputs.map((o) => [o, { data: res[o].data as Float32Array, dims: res[o].dims }]));
}

/**
 * Largest |ours - reference| relative to the largest |reference| of the tensor. `ours` is NHWC
 * (or [N, C]); the reference is ONNX's NCHW (or [N, C]); shapes must correspond exactly.
 */
export function relativeError(ours: { data: Float32Array | Int32Array | Uint8Array; shape: readonly number[] }, ref: { data: Float32Array; dims: readonly number[] }): number {
  const ourShape = ref.dims.length === 4 ? [ref.dims[0], ref.dims[2], ref.dims[3], ref.dims[1]] : [...ref.dims];
  if (ours.shape.join() !== ourShape.join()) throw new Error(`shape [${ours.shape.join(', ')}] vs reference [${ref.dims.join(', ')}]`);
  const nchw = ref.dims.length === 4 ? toNCHW(Float32Array.from(ours.data), ours.shape) : Float32Array.from(ours.data);
  let maxRef = 0;
  let maxDiff = 0;
  for (let i = 0; i < nchw.length; i++) {
    maxRef = Math.max(maxRef, Math.abs(ref.data[i]));
    maxDiff = Math.max(maxDiff, Math.abs(nchw[i] - ref.data[i]));
  }
  return maxDiff / Math.max(maxRef, 1e-30);
}

/** The index of the largest value of each row of a [rows, cols] matrix (top-1 classes of logits). */
export function argmaxRows(data: ArrayLike<number>, rows: number, cols: number): number[] {
  return Array.from({ length: rows }, (_, r) => {
    let best = 0;
    for (let c = 1; c < cols; c++) if (data[r * cols + c] > data[r * cols + best]) best = c;
    return best;
  });
}
