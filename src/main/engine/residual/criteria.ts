// The two scale-invariance criteria of METHODS §7 for channel c of a residual block, from the
// central-neuron visualizations X_In and X_Pre of that channel:
//   (1) ReLU(Pre_c(X_In)) < Pre_c(S(X_In))   the branch answers the zoomed skip-path feature
//   (2) 2/3 < Post_c(X_In) / Post_c(X_Pre) < 3/2   the sum answers both scales about equally
// Both compare values of the two visualizations, so they mean something only where each
// visualization drives its own channel: a channel whose X_In (In_c(X_In)) or X_Pre (Pre_c(X_Pre))
// stays at or below the silent floor is reported silent and not judged (criterion values null).
// Without this a silent X_In (a near-grey image) passed (1) as 0 < 1e-5 and (2) as a ratio of two
// near-equal near-zero sums.
import * as tf from '@tensorflow/tfjs';
import { take } from '../read';
import { centralIndex } from '../fv/objectives';
import { zoomCentre } from '../fv/resample';
import type { CriteriaValues } from '../../../shared/analyses/scale-invariance';
import { findLayer, type NetworkModel } from '../model';

export type CriteriaInput = Omit<CriteriaValues, 'ratio' | 'silent' | 'criterion1' | 'criterion2' | 'scaleInvariant'>;

export function evaluateCriteria(v: CriteriaInput, silentFloor: number): CriteriaValues {
  const ratio = v.postOfIn / v.postOfPre;
  if (!(v.inOfIn > silentFloor) || !(v.preOfPre > silentFloor)) {
    return { ...v, ratio, silent: true, criterion1: null, criterion2: null, scaleInvariant: null };
  }
  const criterion1 = Math.max(v.preOfIn, 0) < v.preOfZoomedIn;
  const criterion2 = Number.isFinite(ratio) && ratio > 2 / 3 && ratio < 3 / 2;
  return { ...v, ratio, silent: false, criterion1, criterion2, scaleInvariant: criterion1 && criterion2 };
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
  in: string;
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
  silentFloor: number,
): Promise<CriteriaValues[]> {
  const side = xIn.shape[1];
  const read = async (x: tf.Tensor4D) => {
    const [inn, pre, post] = tf.tidy(() => {
      const out = model.forward(x, [...new Set([layers.in, layers.pre, layers.post])]);
      return [layers.in, layers.pre, layers.post].map((l) => centralUnits(model, l, out[l], side));
    });
    return { in: ownChannel(await take(inn), channels), pre: ownChannel(await take(pre), channels), post: ownChannel(await take(post), channels) };
  };
  const ofIn = await read(xIn);
  const zoomed = zoomCentre(xIn);
  const ofZoomed = await read(zoomed);
  zoomed.dispose();
  const ofPre = await read(xPre);
  return channels.map((_, i) =>
    evaluateCriteria(
      {
        inOfIn: ofIn.in[i],
        preOfPre: ofPre.pre[i],
        preOfIn: ofIn.pre[i],
        preOfZoomedIn: ofZoomed.pre[i],
        postOfIn: ofIn.post[i],
        postOfPre: ofPre.post[i],
      },
      silentFloor,
    ),
  );
}
