// Preferred image of one unit: gradient ascent on the pixels of an RF-sized image whose contrast
// is held at a fixed L2 norm (METHODS §2 without the diversity term). Steps follow the gradient
// normalized to the image's RMS; Adam is avoided here because with a hard norm projection its
// sign-like steps settle on binary patterns instead of the best image.
import * as tf from '@tensorflow/tfjs';
import { maxImageKey, maxImageResults, type MaxImageSettings } from '../../../shared/analyses/max-image';
import { checkResult } from '../../../shared/analyses/result-contract';
import { gaussian, mulberry32 } from '../../../shared/math/random';
import { yieldToEvents, type EngineAnalysis, type ImageOut } from '../analysis';
import type { LayerInfo } from '../../../shared/domain';
import { channelsAt } from '../fv/objectives';
import { findLayer, meanPixel, rfSizedInput, type NetworkModel } from '../model';

interface Checkpoint {
  step: number;
  params: number[];
  trace: number[];
}

/** Default contrast: an RMS of 30 grey levels per pixel and channel. */
const DEFAULT_RMS = 30;
const TRACE_EVERY = 5;

export const maxImage: EngineAnalysis<MaxImageSettings> = {
  kind: 'max-image',
  async run(s, ctx) {
    const model = await ctx.loadModel(s.modelId);
    try {
      const layer = findLayer(model, s.layer);
      const side = rfSizedInput(layer);
      const numel = side * side * 3;
      const norm = s.imageNorm ?? DEFAULT_RMS * Math.sqrt(numel);
      const rms = norm / Math.sqrt(numel);
      const mean = tf.tensor1d(meanPixel(model.inputConvention));
      const objective = (p: tf.Tensor): tf.Scalar => unitActivation(model, s, layer, toPixels(p, mean, rms, side));

      const saved = ctx.resumeFrom as Checkpoint | null;
      const state = saved ?? { step: 0, params: initialParams(numel, ctx.seed), trace: [] };
      const init = tf.tensor1d(state.params);
      const p = tf.variable(init) as tf.Variable<tf.Rank.R1>;
      init.dispose(); // the variable holds its own reference to the data
      const grad = tf.valueAndGrad((x: tf.Tensor1D) => objective(x));
      const trace = [...state.trace];
      let step = state.step;
      let value = NaN;
      try {
        while (step < s.steps && !ctx.cancelled()) {
          const valueT = tf.tidy(() => {
            const { value, grad: g } = grad(p);
            const rmsGrad = tf.add(tf.sqrt(tf.mean(tf.square(g))), 1e-12);
            p.assign(unitRms(tf.add(p, tf.mul(s.learningRate, tf.div(g, rmsGrad))))); // step, then the norm constraint
            return value;
          });
          step++;
          // Reads wait for the device (a GPU's queue): only on the steps that trace or checkpoint.
          const checkpoint = step % s.checkpointEvery === 0 || step === s.steps;
          const traced = step % TRACE_EVERY === 0 || step === s.steps;
          if (traced || checkpoint || Number.isNaN(value)) value = (await valueT.data())[0];
          valueT.dispose();
          await yieldToEvents();
          if (traced) trace.push(value);
          ctx.progress(step, s.steps, `activation ${value.toPrecision(4)}`);
          if (checkpoint) {
            const snapshot: Checkpoint = { step, params: Array.from(await p.data()), trace };
            ctx.emitResult(maxImageKey('snapshot', { step }), checkResult(maxImageResults, 'snapshot', { step, activation: value }), [await toImage(p, mean, rms, side, `step-${step}`)]);
            ctx.checkpoint(snapshot);
          }
        }
        if (ctx.cancelled()) return;
        const activation = await readScalar(tf.tidy(() => objective(p)));
        ctx.emitResult(
          maxImageKey('unit', { layer: s.layer, channel: s.channel }),
          checkResult(maxImageResults, 'unit', { layer: s.layer, channel: s.channel, activation, steps: step, imageNorm: norm, trace, traceEvery: TRACE_EVERY }),
          [await toImage(p, mean, rms, side, 'preferred')],
        );
      } finally {
        tf.dispose([p, mean]);
      }
    } finally {
      model.dispose();
    }
  },
};

function initialParams(n: number, seed: number): number[] {
  const rand = mulberry32(seed);
  const raw = Array.from({ length: n }, () => gaussian(rand));
  const r = Math.sqrt(raw.reduce((a, b) => a + b * b, 0) / n);
  return raw.map((x) => x / r);
}

function toPixels(p: tf.Tensor, mean: tf.Tensor1D, rms: number, side: number): tf.Tensor4D {
  return tf.add(tf.mul(tf.reshape(p, [1, side, side, 3]), rms), mean) as tf.Tensor4D;
}

function unitActivation(model: NetworkModel, s: MaxImageSettings, layer: LayerInfo, pixels: tf.Tensor4D): tf.Scalar {
  const out = model.forward(pixels, [s.layer])[s.layer];
  // Without the RF, the central unit is the middle of the grid: the input is sized to the RF.
  const units = channelsAt(out, s.layer, { tokens: layer.tokens }, s.position, pixels.shape[1]);
  return tf.squeeze(tf.slice(units, [0, s.channel], [1, 1])) as tf.Scalar;
}

function unitRms(p: tf.Tensor1D): tf.Tensor1D {
  const centred = tf.sub(p, tf.mean(p));
  return tf.div(centred, tf.sqrt(tf.mean(tf.square(centred))));
}

async function toImage(p: tf.Tensor, mean: tf.Tensor1D, rms: number, side: number, name: string): Promise<ImageOut> {
  const t = tf.tidy(() => tf.clipByValue(toPixels(p, mean, rms, side), 0, 255).round());
  const px = await t.data();
  t.dispose();
  return { name, width: side, height: side, rgb: Uint8Array.from(px) };
}

async function readScalar(t: tf.Tensor): Promise<number> {
  const v = (await t.data())[0];
  t.dispose();
  return v;
}
