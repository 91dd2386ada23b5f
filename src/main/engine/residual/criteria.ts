// The two scale-invariance criteria of METHODS §7 for channel c of a residual block, from the
// central-neuron visualizations X_In and X_Pre of that channel:
//   (1) ReLU(Pre_c(X_In)) < Pre_c(S(X_In))   the branch answers the zoomed skip-path feature
//   (2) 2/3 < Post_c(X_In) / Post_c(X_Pre) < 3/2   the sum answers both scales about equally
import * as tf from '@tensorflow/tfjs';
import { take } from '../read';
import { centralIndex } from '../fv/objectives';
import { zoomCentre } from '../fv/resample';
import type { CriteriaValues } from '../../../shared/analyses/scale-invariance';
import { findLayer, type NetworkModel } from '../model';

export function evaluateCriteria(v: Omit<CriteriaValues, 'ratio' | 'criterion1' | 'criterion2' | 'scaleInvariant'>): CriteriaValues {
  const ratio = v.postOfIn / v.postOfPre;
  const criterion1 = Math.max(v.preOfIn, 0) < v.preOfZoomedIn;
  const criterion2 = Number.isFinite(ratio) && ratio > 2 / 3 && ratio < 3 / 2;
  return { ...v, ratio, criterion1, criterion2, scaleInvariant: criterion1 && criterion2 };
}

/** Central units of every row, [n, c] (to be read; row i of `out` belongs to channels[i]). */
function centralUnits(model: NetworkModel, layer: string, out: tf.Tensor, inputSide: number): tf.Tensor2D {
  const info = findLayer(model, layer);
  const [n, h, w, c] = out.shape as number[];
  const y = centralIndex(info.rf, inputSide, h);
  const x = centralIndex(info.rf, inputSide, w);
  return tf.reshape(tf.slice(out, [0, y, x, 0], [n, 1, 1, c]), [n, c]);
}

/** Each row's own channel out of central units read as [n, c]. */
function ownChannel(units: Float32Array, channels: readonly number[]): Float32Array {
  const c = units.length / channels.length;
  return Float32Array.from(channels, (ch, i) => units[i * c + ch]);
}

export interface CriteriaLayers {
  pre: string;
  post: string;
}

/**
 * Criteria for every channel of a batch: xIn[i] and xPre[i] are the visualizations of channels[i]
 * (pixels RGB 0..255, [n, H, W, 3]).
 */
export async function criteriaForChannels(
  model: NetworkModel,
  layers: CriteriaLayers,
  channels: readonly number[],
  xIn: tf.Tensor4D,
  xPre: tf.Tensor4D,
): Promise<CriteriaValues[]> {
  const side = xIn.shape[1];
  const read = async (x: tf.Tensor4D) => {
    const [pre, post] = tf.tidy(() => {
      const out = model.forward(x, [layers.pre, layers.post]);
      return [centralUnits(model, layers.pre, out[layers.pre], side), centralUnits(model, layers.post, out[layers.post], side)];
    });
    return { pre: ownChannel(await take(pre), channels), post: ownChannel(await take(post), channels) };
  };
  const ofIn = await read(xIn);
  const zoomed = zoomCentre(xIn);
  const ofZoomed = await read(zoomed);
  zoomed.dispose();
  const ofPre = await read(xPre);
  return channels.map((_, i) =>
    evaluateCriteria({ preOfIn: ofIn.pre[i], preOfZoomedIn: ofZoomed.pre[i], postOfIn: ofIn.post[i], postOfPre: ofPre.post[i] }),
  );
}
