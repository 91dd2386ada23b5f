// Reading tensors back to the CPU. On webgpu a synchronous read (dataSync, arraySync) is not
// possible in Node and would stall the GPU's queue anyway, so the engine reads asynchronously.
import * as tf from '@tensorflow/tfjs';

/** The values of a float32 tensor, read without blocking; the tensor is freed. */
export async function take(t: tf.Tensor): Promise<Float32Array> {
  try {
    return (await t.data()) as Float32Array;
  } finally {
    t.dispose();
  }
}
