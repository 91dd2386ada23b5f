// Layers of a loaded ONNX model compared with onnxruntime-node running the same file.
import * as tf from '@tensorflow/tfjs';
import { applyInputConvention, type NetworkModel } from '../../../src/main/engine/model';
import { ortSession, relativeError, runOrt, withExtraOutputs } from '../models/reference';

/** Per layer, the relative error of what `model` computes for `pixels` against onnxruntime on `onnx`. */
export async function layerErrorsAgainstOrt(model: NetworkModel, onnx: Uint8Array, layers: readonly string[], pixels: tf.Tensor4D): Promise<Record<string, number>> {
  const ours = tf.tidy(() => {
    const out = model.forward(pixels, layers);
    return layers.map((n) => ({ data: out[n].dataSync() as Float32Array, shape: out[n].shape }));
  });
  const input = tf.tidy(() => applyInputConvention(pixels, model.inputConvention).dataSync() as Float32Array);
  const ref = await runOrt(await ortSession(withExtraOutputs(onnx, layers)), input, pixels.shape, layers);
  return Object.fromEntries(layers.map((n, i) => [n, relativeError(ours[i], ref[n])]));
}
