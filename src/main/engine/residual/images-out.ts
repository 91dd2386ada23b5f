// Image batches (RGB 0..255 tensors) to the 8-bit images a run stores.
import * as tf from '@tensorflow/tfjs';
import type { ImageOut } from '../analysis';
import { take } from '../read';

export async function imagesOut(batch: tf.Tensor4D, names: readonly string[]): Promise<ImageOut[]> {
  const [n, h, w] = batch.shape;
  const data = await take(tf.tidy(() => tf.clipByValue(batch, 0, 255).round()));
  return Array.from({ length: n }, (_, i) => ({
    name: names[i],
    width: w,
    height: h,
    rgb: Uint8Array.from(data.subarray(i * h * w * 3, (i + 1) * h * w * 3)),
  }));
}

export function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}
