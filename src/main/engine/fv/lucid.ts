// Feature visualization in the style of Lucid/Lucent (METHODS §6): Fourier-parameterized,
// colour-decorrelated images, optimized with Adam through a stack of random transforms, one image
// per channel, many channels in one batch. It reuses the shared loop (`optimize`) with early
// stopping switched off (Lucid runs a fixed number of steps) and no gradient preconditioning (the
// parameterization already whitens the spectrum). Starting images whose channel is silent (value
// <= 0 with zero gradient: a rectified unit that is off for the near-grey start) would never move,
// so they are redrawn from derived seeds first and, where still silent, walked up the channel's
// pre-activation, as the pixel images of the diverse analysis are (starts.ts).
import * as tf from '@tensorflow/tfjs';
import { take } from '../read';
import { mulberry32 } from '../../../shared/math/random';
import { findLayer, type NetworkModel } from '../model';
import { FourierImages } from './fourier-image';
import { channelsAt, type Objective } from './objectives';
import { optimize } from './optimize';
import { ascendRows, deriveSeed, preActivationLayer } from './starts';
import type { ImageParameterization } from './parameterization';
import { applyTransforms, smallestTransformedSide, transformStack, type TransformSettings } from './transforms';

export type LucidObjectiveKind = 'neuron' | 'channel';

/**
 * One value per image: the central unit of its channel (neuron) or the mean of its channel's whole
 * map (channel). The central unit is found from the layer's RF and the actual input side, so it
 * follows the image size the transforms produce.
 */
export function channelObjective(model: NetworkModel, layer: string, channels: readonly number[], kind: LucidObjectiveKind): Objective {
  const info = findLayer(model, layer);
  return {
    layers: [layer],
    evaluate: ({ acts, pixels }) =>
      tf.tidy(() => {
        const out = acts[layer];
        const tokens = out.rank === 3 ? info.tokens : undefined;
        if (out.rank !== 4 && !tokens) throw new Error(`layer ${layer} has no spatial map; Lucid objectives need NHWC outputs or a token layer`);
        const n = out.shape[0];
        const c = out.shape[out.rank - 1];
        if (n !== channels.length) throw new Error(`objective: ${n} images for ${channels.length} channels`);
        for (const ch of channels) if (ch < 0 || ch >= c) throw new Error(`layer ${layer} has ${c} channels, no channel ${ch}`);
        let perChannel: tf.Tensor2D;
        if (kind === 'neuron') perChannel = channelsAt(out, layer, info, null, pixels.shape[1]);
        // A token layer's map is its patch tokens (the class tokens have no place in the image).
        else if (tokens) perChannel = tf.mean(tf.slice(out, [0, tokens.classTokens, 0], [n, -1, c]), 1) as tf.Tensor2D;
        else perChannel = tf.mean(out, [1, 2]) as tf.Tensor2D;
        const select = new Float32Array(n * c);
        channels.forEach((ch, i) => (select[i * c + ch] = 1));
        return tf.sum(tf.mul(perChannel, tf.tensor2d(select, [n, c])), 1) as tf.Tensor1D;
      }),
  };
}

/** The parameterization seen through the transform stack; the optimizer updates the inner variable. */
class Transformed implements ImageParameterization {
  readonly spatialGradient = false;
  constructor(
    private readonly inner: ImageParameterization,
    private readonly settings: TransformSettings,
    private readonly rand: () => number,
  ) {}
  get variable(): tf.Variable {
    return this.inner.variable;
  }
  render(): tf.Tensor4D {
    return applyTransforms(transformStack(this.settings), this.inner.render(), this.rand);
  }
  constrain(): void {
    this.inner.constrain();
  }
  dispose(): void {}
}

export interface LucidOptions {
  layer: string;
  channels: readonly number[];
  objective: LucidObjectiveKind;
  /** Image side, px. */
  size: number;
  steps: number;
  learningRate: number;
  transforms: TransformSettings;
  seed: number;
  /** Redraws of a silent starting image (default 20, as the diverse analysis). */
  silentStartRedraws?: number;
  onStep?: (step: number) => void;
  cancelled?: () => boolean;
}

export interface LucidResult {
  /** Final images, RGB 0..255, [channels, size, size, 3]; the caller disposes it. */
  images: tf.Tensor4D;
  /** The objective on each final (untransformed) image. */
  activations: number[];
  steps: number;
  cancelled: boolean;
  /** Channels whose starting image was silent (value <= 0, zero gradient) and was redrawn or woken. */
  silentStartsRedrawn: number[];
  /** Channels whose starting image stayed silent through every redraw and the pre-activation walk. */
  silentStarts: number[];
}

/** The objective's value per image on the untransformed images, [n]. */
function valuesOf(model: NetworkModel, images: FourierImages, objective: Objective): tf.Tensor1D {
  return tf.tidy(() => {
    const pixels = images.render();
    return objective.evaluate({ acts: model.forward(pixels, objective.layers), pixels });
  });
}

/**
 * Rows whose objective is silent on the untransformed image: value <= 0 and a gradient that is
 * exactly zero (a rectified unit that is off). A negative value with a gradient (a layer without
 * rectifier) is an ordinary start and not silent.
 */
export async function silentLucidRows(model: NetworkModel, images: FourierImages, objective: Objective): Promise<number[]> {
  const values = await take(valuesOf(model, images, objective));
  const candidates = Array.from(values.keys()).filter((r) => !(values[r] > 0));
  if (candidates.length === 0) return [];
  const norms = await take(
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.sum(valuesOf(model, images, objective)) as tf.Scalar, [images.variable]);
      return tf.sum(tf.square(grads[images.variable.name]), [1, 2, 3]);
    }),
  );
  return candidates.filter((r) => !(norms[r] > 0));
}

/**
 * Silent rows redrawn from derived seeds up to `maxRedraws` times, then those still silent walked
 * up `pre` (the objective on the pre-ReLU layer, whose gradient does not vanish) by normalized
 * gradient steps of `stepSize` per coefficient (about two Adam steps at the METHODS rate), at
 * most `maxSteps`. Returns the rows silent at first and those still silent.
 */
export async function redrawSilentLucidStarts(
  model: NetworkModel,
  images: FourierImages,
  objective: Objective,
  pre: Objective | null,
  seeds: readonly number[],
  maxRedraws: number,
  maxSteps = 200,
  stepSize = 0.1,
): Promise<{ initial: number[]; still: number[] }> {
  const initial = await silentLucidRows(model, images, objective);
  let silent = initial;
  for (let attempt = 1; attempt <= maxRedraws && silent.length > 0; attempt++) {
    await images.redraw(
      silent,
      silent.map((r) => deriveSeed(seeds[r], 'redraw', attempt)),
    );
    silent = await silentLucidRows(model, images, objective);
  }
  for (let step = 0; pre && step < maxSteps && silent.length > 0; step++) {
    ascendRows(images.variable, silent, () => valuesOf(model, images, pre), stepSize);
    const still = new Set(await silentLucidRows(model, images, objective));
    silent = silent.filter((r) => still.has(r));
  }
  return { initial, still: silent };
}

/** Runs the optimization, letting the event loop in between steps (so a cancel is seen). */
export async function visualizeChannels(model: NetworkModel, o: LucidOptions): Promise<LucidResult> {
  if (o.channels.length === 0) throw new Error('feature visualization: no channels');
  const smallest = smallestTransformedSide(o.size, o.transforms);
  if (smallest < 1) throw new Error(`feature visualization: transforms leave no image of a ${o.size} px side`);
  const seeds = o.channels.map((_, i) => (o.seed * 1_000_003 + i * 7919) >>> 0);
  const images = new FourierImages({ seeds, height: o.size, width: o.size });
  try {
    const objective = channelObjective(model, o.layer, o.channels, o.objective);
    const preLayer = preActivationLayer(model, o.layer);
    const pre = preLayer ? channelObjective(model, preLayer, o.channels, o.objective) : null;
    const starts = await redrawSilentLucidStarts(model, images, objective, pre, seeds, o.silentStartRedraws ?? 20);
    const run = await optimize(model, new Transformed(images, o.transforms, mulberry32(o.seed)), objective, {
      groups: o.channels.length,
      maxSteps: o.steps,
      learningRate: o.learningRate,
      patience: o.steps + 1,
      emaDecay: 0.9,
      minImprovement: 0,
      precondition: false,
      onStep: o.onStep,
      cancelled: o.cancelled,
    });
    const pixels = images.render();
    const activations = Array.from(await take(tf.tidy(() => objective.evaluate({ acts: model.forward(pixels, [o.layer]), pixels }))));
    return {
      images: pixels,
      activations,
      steps: Math.max(...run.steps),
      cancelled: run.cancelled,
      silentStartsRedrawn: starts.initial.map((r) => o.channels[r]),
      silentStarts: starts.still.map((r) => o.channels[r]),
    };
  } finally {
    images.dispose();
  }
}
