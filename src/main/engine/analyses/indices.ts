// The invariance indices of METHODS §4 and §5, for many units of one layer at once.
// Shift invariance: one texture of side 2 RF - 1 per unit, optimized so that the mean activation
// of its windowed RF-sized crops is maximal, against the activation of the unit's templates.
// Linear combination: the templates' pairwise averages, rescaled to the template norm, against
// the templates themselves.
import * as tf from '@tensorflow/tfjs';
import type { NetworkModel } from '../model';
import { take } from '../read';
import { unitActivation, unitActivations, weightedSum, type UnitSpec } from '../fv/objectives';
import { optimize, type OptimizerSettings, type OptimizeOptions } from '../fv/optimize';
import { mulberry32 } from '../../../shared/math/random';
import { gaussianNoise, type ImageParameterization } from '../fv/parameterization';
import { silentRows, wakeSilentRows } from '../fv/starts';

/** The crop window w(r) = exp(-(r / sigma)^4), sigma = RF / 2.4, r from the crop centre: [RF * RF]. */
export function cropWindow(rf: number): Float32Array {
  const sigma = rf / 2.4;
  const c = (rf - 1) / 2;
  const w = new Float32Array(rf * rf);
  for (let y = 0; y < rf; y++) for (let x = 0; x < rf; x++) w[y * rf + x] = Math.exp(-((Math.hypot(y - c, x - c) / sigma) ** 4));
  return w;
}

/** Top-left offsets of the crops along one axis of a texture of side 2 RF - 1: 0, stride, ..., <= RF - 1. */
export function cropOffsets(rf: number, stride: number): number[] {
  if (!(stride >= 1)) throw new Error(`crop stride must be at least 1, got ${stride}`);
  const out: number[] = [];
  for (let o = 0; o <= rf - 1; o += stride) out.push(o);
  return out;
}

/** All pairs i < j of n items, in order. */
export function pairIndices(n: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) out.push([i, j]);
  return out;
}

export interface TextureOptions {
  rf: number;
  stride: number;
  /** RMS norm of the windowed crops (the template norm, pixel units). */
  norm: number;
  meanPixel: readonly [number, number, number];
  /** One seed per unit. */
  seeds: readonly number[];
  tangentGradient: boolean;
  /**
   * Crops drawn at random for each optimization step (null: every crop). The mean over a random
   * subset is an unbiased estimate of the mean over all crops, so the ascent follows the same
   * objective; the final activation is measured on every crop.
   */
  cropsPerStep: number | null;
}

/** Crops per forward pass when every crop is measured (memory stays bounded at stride 1). */
const MEASURE_CHUNK_IMAGES = 256;

/**
 * Textures of side 2 RF - 1 (one per unit) seen through windowed RF-sized crops. The variable is
 * in units of the crops' RMS contrast; the constraint holds the RMS norm of the windowed crops,
 * sqrt(mean_k |w . crop_k|^2), at the template norm. `render` gives the crops of the current
 * step: all of them, or the random subset `resample` drew.
 */
export class WindowedTextureCrops implements ImageParameterization {
  readonly variable: tf.Variable<tf.Rank.R4>;
  readonly spatialGradient = true;
  readonly side: number;
  /** Every crop of a texture. */
  readonly cropsPerTexture: number;
  /** Crops `render` gives per texture. */
  readonly cropsRendered: number;
  /** Pixel units per variable unit. */
  readonly scale: number;
  private readonly crops: [number, number][];
  private index: tf.Tensor1D;
  private readonly window: tf.Tensor4D;
  /** Sum over crops of w^2 at each texture pixel, divided by the crop count: [1, T, T, 1]. */
  private readonly coverage: tf.Tensor4D;
  private readonly mean: tf.Tensor1D;
  private readonly unitNorm: number;
  private readonly random: (() => number) | null;

  constructor(readonly options: TextureOptions) {
    const { rf, stride, norm, seeds } = options;
    const t = 2 * rf - 1;
    this.side = t;
    const offsets = cropOffsets(rf, stride);
    this.crops = offsets.flatMap((y) => offsets.map((x) => [y, x] as [number, number]));
    this.cropsPerTexture = this.crops.length;
    const sampled = options.cropsPerStep !== null && options.cropsPerStep < this.crops.length;
    this.cropsRendered = sampled ? options.cropsPerStep! : this.crops.length;
    this.random = sampled ? mulberry32(seeds[0] ^ 0x5bd1e995) : null;
    const w = cropWindow(rf);
    const cover = new Float32Array(t * t);
    for (const [oy, ox] of this.crops) {
      for (let y = 0; y < rf; y++) for (let x = 0; x < rf; x++) cover[(oy + y) * t + (ox + x)] += (w[y * rf + x] ** 2) / this.crops.length;
    }
    this.unitNorm = Math.sqrt(rf * rf * 3);
    this.scale = norm / this.unitNorm;
    const data = new Float32Array(seeds.length * t * t * 3);
    seeds.forEach((s, i) => data.set(gaussianNoise(t * t * 3, s), i * t * t * 3));
    [this.index, this.window, this.coverage, this.mean, this.variable] = tf.tidy(() => [
      tf.keep(this.pixelIndex(sampled ? this.drawCrops() : this.crops)),
      tf.keep(tf.tensor4d(w, [1, rf, rf, 1])),
      tf.keep(tf.tensor4d(cover, [1, t, t, 1])),
      tf.keep(tf.tensor1d([...options.meanPixel])),
      tf.variable(tf.tensor4d(data, [seeds.length, t, t, 3])),
    ]);
    this.constrain();
  }

  /** The windowed crops of the current step, unit by unit: [units * cropsRendered, RF, RF, 3]. */
  render(): tf.Tensor4D {
    return this.renderAt(this.index, this.cropsRendered);
  }

  resample(): void {
    if (!this.random) return;
    const next = this.pixelIndex(this.drawCrops());
    this.index.dispose();
    this.index = next;
  }

  /**
   * Mean activation of every crop of each unit's texture, [units]: forward passes over chunks of
   * crops, so memory does not grow with the crop count.
   */
  async meanCropActivation(model: NetworkModel, spec: Omit<UnitSpec, 'imagesPerGroup'>): Promise<number[]> {
    const units = this.variable.shape[0];
    const chunk = Math.max(1, Math.floor(MEASURE_CHUNK_IMAGES / units));
    const sum = new Float64Array(units);
    for (let start = 0; start < this.crops.length; start += chunk) {
      const part = this.crops.slice(start, start + chunk);
      const partSums = tf.tidy(() => {
        const pixels = this.renderAt(this.pixelIndex(part), part.length);
        const acts = unitActivations(model.forward(pixels, [spec.layer])[spec.layer], { ...spec, imagesPerGroup: part.length });
        return tf.sum(tf.reshape(acts, [units, part.length]), 1);
      });
      const values = await take(partSums);
      values.forEach((v, u) => (sum[u] += v));
    }
    return Array.from(sum, (v) => v / this.crops.length);
  }

  /** The textures themselves, unwindowed, as pixels [units, T, T, 3]. */
  texturePixels(): tf.Tensor4D {
    return tf.tidy(() => tf.add(tf.mul(this.variable, this.scale), this.mean) as tf.Tensor4D);
  }

  projectGradient(grad: tf.Tensor): tf.Tensor {
    if (!this.options.tangentGradient) return grad;
    // The constraint surface's normal at v is coverage * v.
    return tf.tidy(() => {
      const normal = tf.mul(this.coverage, this.variable);
      const k = tf.div(tf.sum(tf.mul(grad, normal), [1, 2, 3], true), tf.add(tf.sum(tf.square(normal), [1, 2, 3], true), 1e-30));
      return tf.sub(grad, tf.mul(k, normal));
    });
  }

  constrain(): void {
    tf.tidy(() => {
      const rms = tf.sqrt(tf.sum(tf.mul(tf.square(this.variable), this.coverage), [1, 2, 3], true));
      this.variable.assign(tf.mul(this.variable, tf.div(this.unitNorm, tf.maximum(rms, 1e-12))));
    });
  }

  dispose(): void {
    tf.dispose([this.variable, this.index, this.window, this.coverage, this.mean]);
  }

  private renderAt(index: tf.Tensor1D, count: number): tf.Tensor4D {
    const { rf } = this.options;
    return tf.tidy(() => {
      const units = this.variable.shape[0];
      const flat = tf.reshape(this.variable, [units, this.side * this.side, 3]);
      const crops = tf.reshape(tf.gather(flat, index, 1), [units * count, rf, rf, 3]);
      return tf.add(tf.mul(tf.mul(crops, this.window), this.scale), this.mean) as tf.Tensor4D;
    });
  }

  /** Texture pixel of every crop pixel, crop by crop: [crops * RF * RF]. */
  private pixelIndex(crops: readonly [number, number][]): tf.Tensor1D {
    const { rf } = this.options;
    const idx = new Int32Array(crops.length * rf * rf);
    crops.forEach(([oy, ox], k) => {
      for (let y = 0; y < rf; y++) for (let x = 0; x < rf; x++) idx[(k * rf + y) * rf + x] = (oy + y) * this.side + (ox + x);
    });
    return tf.tensor1d(idx, 'int32');
  }

  /** `cropsRendered` distinct crops drawn at random (partial Fisher-Yates). */
  private drawCrops(): [number, number][] {
    const order = Array.from(this.crops.keys());
    for (let i = 0; i < this.cropsRendered; i++) {
      const j = i + Math.floor(this.random!() * (order.length - i));
      [order[i], order[j]] = [order[j], order[i]];
    }
    return order.slice(0, this.cropsRendered).map((k) => this.crops[k]);
  }
}

export interface ShiftInvarianceResult {
  /** Mean activation over each unit's texture crops. */
  cropActivation: number[];
  steps: number[];
  /** Each unit's texture, pixels [T, T, 3] row-major. */
  textures: Float32Array[];
  side: number;
  cropsPerTexture: number;
  cancelled: boolean;
}

/**
 * Optimizes one texture per unit (the units of `spec`, one group each). Textures whose crops all
 * leave the unit silent are first walked up `preActivationLayer` when there is one.
 */
export async function optimizeTextures(
  model: NetworkModel,
  spec: Omit<UnitSpec, 'imagesPerGroup'>,
  texture: TextureOptions,
  preActivationLayer: string | null,
  optimizer: OptimizerSettings,
  hooks: Pick<OptimizeOptions, 'onStep' | 'cancelled'> = {},
): Promise<ShiftInvarianceResult> {
  const param = new WindowedTextureCrops(texture);
  try {
    const k = param.cropsRendered;
    const unitSpec: UnitSpec = { ...spec, imagesPerGroup: k };
    const silent = await silentRows(model, param, unitSpec);
    if (silent.length > 0 && preActivationLayer) await wakeSilentRows(model, param, unitSpec, preActivationLayer, silent);
    const objective = weightedSum([[unitActivation(unitSpec), 1 / k]]);
    const res = await optimize(model, param, objective, { ...optimizer, ...hooks, groups: spec.channels.length });
    const cropActivation = await param.meanCropActivation(model, spec);
    const px = param.texturePixels();
    const all = (await px.data()) as Float32Array;
    px.dispose();
    const n = param.side * param.side * 3;
    const textures = spec.channels.map((_, u) => all.slice(u * n, (u + 1) * n));
    return { cropActivation, steps: res.steps, textures, side: param.side, cropsPerTexture: param.cropsPerTexture, cancelled: res.cancelled };
  } finally {
    param.dispose();
  }
}

/**
 * Mean activation of each unit's pairwise template averages, each rescaled to the template norm
 * about the mean pixel. `templates` holds n images per unit, unit by unit (pixels, NHWC).
 */
export async function pairAverageActivation(
  model: NetworkModel,
  spec: UnitSpec,
  templates: tf.Tensor4D,
  norm: number,
  meanPixel: readonly [number, number, number],
): Promise<number[]> {
  const n = spec.imagesPerGroup;
  const units = spec.channels.length;
  const pairs = pairIndices(n);
  const perUnit = tf.tidy(() => {
    const mean = tf.tensor1d([...meanPixel]);
    const dev = tf.sub(templates, mean);
    const rows = (which: 0 | 1) => Array.from({ length: units }, (_, u) => pairs.map((p) => u * n + p[which])).flat();
    const a = tf.gather(dev, tf.tensor1d(rows(0), 'int32'));
    const b = tf.gather(dev, tf.tensor1d(rows(1), 'int32'));
    const avg = tf.div(tf.add(a, b), 2);
    const len = tf.sqrt(tf.sum(tf.square(avg), [1, 2, 3], true));
    const pixels = tf.add(tf.mul(avg, tf.div(norm, tf.maximum(len, 1e-12))), mean) as tf.Tensor4D;
    const pairSpec: UnitSpec = { ...spec, imagesPerGroup: pairs.length };
    const acts = unitActivations(model.forward(pixels, [spec.layer])[spec.layer], pairSpec);
    return tf.mean(tf.reshape(acts, [units, pairs.length]), 1);
  });
  return Array.from(await take(perUnit));
}

/** An index as the ratio of two mean activations; null when the reference is not positive. */
export function activationRatio(numerator: number, reference: number): number | null {
  return reference > 0 ? numerator / reference : null;
}
