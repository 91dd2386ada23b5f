// Preferred image of one unit: gradient ascent on the pixels of an RF-sized image whose contrast
// is held at a fixed L2 norm (METHODS §2 without the diversity term). Adam state is part of the
// checkpoint, so a resumed run continues exactly where it stopped.
import * as tf from '@tensorflow/tfjs';
import type { MaxImageSettings } from '../../../shared/analyses/max-image';
import { mulberry32 } from '../../../shared/math/gabor';
import type { EngineAnalysis, ImageOut } from '../analysis';
import { findLayer, meanPixel, rfSizedInput, type NetworkModel } from '../model';

interface Checkpoint {
  step: number;
  params: number[];
  adamM: number[];
  adamV: number[];
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
      const objective = (p: tf.Tensor): tf.Scalar => unitActivation(model, s, toPixels(p, mean, rms, side));

      const saved = ctx.resumeFrom as Checkpoint | null;
      const state = saved ?? {
        step: 0,
        params: initialParams(numel, ctx.seed),
        adamM: new Array(numel).fill(0),
        adamV: new Array(numel).fill(0),
        trace: [],
      };
      const p = tf.variable(tf.tensor1d(state.params));
      const m = tf.variable(tf.tensor1d(state.adamM));
      const v = tf.variable(tf.tensor1d(state.adamV));
      const grad = tf.valueAndGrad(objective);
      const trace = [...state.trace];
      let step = state.step;
      try {
        while (step < s.steps && !ctx.cancelled()) {
          const value = tf.tidy(() => {
            const { value, grad: g } = grad(p);
            adamAscend(p, m, v, g, s.learningRate, step + 1);
            p.assign(unitRms(p)); // the norm constraint
            return value.dataSync()[0];
          });
          step++;
          if (step % TRACE_EVERY === 0 || step === s.steps) trace.push(value);
          ctx.progress(step, s.steps, `activation ${value.toPrecision(4)}`);
          if (step % s.checkpointEvery === 0 || step === s.steps) {
            const snapshot = { step, params: arr(p), adamM: arr(m), adamV: arr(v), trace };
            ctx.emitResult(`snapshot/${step}`, { step, activation: value }, [toImage(p, mean, rms, side, `step-${step}`)]);
            ctx.checkpoint(snapshot);
          }
        }
        if (ctx.cancelled()) return;
        const activation = tf.tidy(() => objective(p).dataSync()[0]);
        ctx.emitResult(
          `unit/${s.layer}/${s.channel}`,
          { layer: s.layer, channel: s.channel, activation, steps: step, imageNorm: norm, trace, traceEvery: TRACE_EVERY },
          [toImage(p, mean, rms, side, 'preferred')],
        );
      } finally {
        tf.dispose([p, m, v, mean]);
      }
    } finally {
      model.dispose();
    }
  },
};

function initialParams(n: number, seed: number): number[] {
  const rand = mulberry32(seed);
  const g = () => Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
  const raw = Array.from({ length: n }, g);
  const r = Math.sqrt(raw.reduce((a, b) => a + b * b, 0) / n);
  return raw.map((x) => x / r);
}

function toPixels(p: tf.Tensor, mean: tf.Tensor1D, rms: number, side: number): tf.Tensor4D {
  return tf.add(tf.mul(tf.reshape(p, [1, side, side, 3]), rms), mean) as tf.Tensor4D;
}

function unitActivation(model: NetworkModel, s: MaxImageSettings, pixels: tf.Tensor4D): tf.Scalar {
  const out = model.forward(pixels, [s.layer])[s.layer];
  if (out.rank !== 4) return tf.squeeze(tf.slice(out, [0, s.channel], [1, 1])) as tf.Scalar;
  const [, h, w] = out.shape;
  const [y, x] = s.position ?? [Math.floor(h / 2), Math.floor(w / 2)];
  return tf.squeeze(tf.slice(out, [0, y, x, s.channel], [1, 1, 1, 1])) as tf.Scalar;
}

/** One Adam step towards a larger objective (betas 0.9, 0.999). */
function adamAscend(p: tf.Variable, m: tf.Variable, v: tf.Variable, g: tf.Tensor, lr: number, t: number): void {
  const b1 = 0.9;
  const b2 = 0.999;
  m.assign(tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1)));
  v.assign(tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2)));
  const mHat = tf.div(m, 1 - b1 ** t);
  const vHat = tf.div(v, 1 - b2 ** t);
  p.assign(tf.add(p, tf.mul(lr, tf.div(mHat, tf.add(tf.sqrt(vHat), 1e-8)))));
}

function unitRms(p: tf.Tensor): tf.Tensor {
  const centred = tf.sub(p, tf.mean(p));
  return tf.div(centred, tf.sqrt(tf.mean(tf.square(centred))));
}

function arr(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

function toImage(p: tf.Tensor, mean: tf.Tensor1D, rms: number, side: number, name: string): ImageOut {
  const px = tf.tidy(() => tf.clipByValue(toPixels(p, mean, rms, side), 0, 255).round().dataSync());
  return { name, width: side, height: side, rgb: Uint8Array.from(px) };
}
