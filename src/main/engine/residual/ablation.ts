// Mean-ablation of channels at one layer (METHODS §8). The evaluation images pass through the
// network once per scale up to the ablated layer; every ablation condition then replaces channels
// of those cached activations by constants and runs only the rest of the network.
import * as tf from '@tensorflow/tfjs';
import { take } from '../read';
import { yieldToEvents } from '../analysis';
import { centralIndex } from '../fv/objectives';
import { findLayer, type NetworkModel } from '../model';
import type { LabelledImage } from './labelled-images';
import { ABLATION_INPUT, scaledBatch } from './scale-views';

/** Cached activations above this many bytes are recomputed from pixels instead. */
const CACHE_BYTES = 1.5 * 2 ** 30;

export interface AblationSetup {
  model: NetworkModel;
  /** The ablated layer. */
  layer: string;
  /** True when the layer's output goes through a ReLU next (means are clamped at 0). */
  beforeRelu: boolean;
  images: readonly LabelledImage[];
  percents: readonly number[];
  batchSize: number;
  cancelled?: () => boolean;
  onProgress?: (message: string) => void;
}

/** The last layer, which must hold one score per class. */
export function logitsLayer(model: NetworkModel): string {
  const last = model.layers.at(-1);
  if (!last || last.shape.length !== 1) throw new Error(`model ${model.name} does not end in class scores (its last layer is ${last?.name} [${last?.shape.join(', ')}])`);
  return last.name;
}

function argmax(data: ArrayLike<number>, row: number, cols: number): number {
  let best = 0;
  for (let c = 1; c < cols; c++) if (data[row * cols + c] > data[row * cols + best]) best = c;
  return best;
}

export class AblationExperiment {
  readonly logits: string;
  /** Per channel, the mean central-neuron activation over the images (p = 0), clamped if before a ReLU. */
  means: Float32Array = new Float32Array(0);
  /** Intact top-1 (fraction) per percentage. */
  readonly intact = new Map<number, number>();
  private readonly cache = new Map<number, tf.Tensor[]>();
  private readonly batches: LabelledImage[][] = [];
  private readonly channels: number;

  constructor(private readonly s: AblationSetup) {
    const { model } = s;
    if (!model.forwardFrom) throw new Error(`model ${model.name} cannot run from an inner layer; ablation needs a graph model`);
    this.logits = logitsLayer(model);
    const info = findLayer(model, s.layer);
    if (info.shape.length !== 3) throw new Error(`layer ${s.layer} has no channel maps; ablation needs an NHWC layer`);
    this.channels = info.shape[2];
    for (let i = 0; i < s.images.length; i += s.batchSize) this.batches.push(s.images.slice(i, i + s.batchSize));
  }

  /** One full pass per scale: intact accuracy, the channel means (p = 0) and the cached activations. */
  async prepare(): Promise<boolean> {
    const { model, layer } = this.s;
    const info = findLayer(model, layer);
    const [h, w, c] = info.shape;
    const bytes = this.s.images.length * h * w * c * 4 * this.s.percents.length;
    const caching = bytes <= CACHE_BYTES;
    const sums = new Float64Array(c);
    for (const p of this.s.percents) {
      let correct = 0;
      const cached: tf.Tensor[] = [];
      for (const [b, batch] of this.batches.entries()) {
        if (this.s.cancelled?.()) return false;
        const pixels = tf.tensor4d(await scaledBatch(batch.map((x) => x.file), p), [batch.length, ABLATION_INPUT, ABLATION_INPUT, 3]);
        const out = model.forward(pixels, [layer, this.logits]);
        pixels.dispose();
        const scores = await out[this.logits].data();
        correct += batch.filter((x, i) => argmax(scores, i, scores.length / batch.length) === x.label).length;
        if (p === 0) {
          const [, oh, ow] = out[layer].shape;
          const y = centralIndex(info.rf, ABLATION_INPUT, oh);
          const x = centralIndex(info.rf, ABLATION_INPUT, ow);
          const units = await take(tf.tidy(() => tf.sum(tf.slice(out[layer], [0, y, x, 0], [batch.length, 1, 1, c]), [0, 1, 2])));
          units.forEach((v, k) => (sums[k] += v));
        }
        out[this.logits].dispose();
        if (caching) cached.push(out[layer]);
        else out[layer].dispose();
        this.s.onProgress?.(`intact network at ${p} %: batch ${b + 1}/${this.batches.length}`);
        await yieldToEvents();
      }
      this.intact.set(p, correct / this.s.images.length);
      if (caching) this.cache.set(p, cached);
    }
    this.means = Float32Array.from(sums, (v) => {
      const m = v / this.s.images.length;
      return this.s.beforeRelu ? Math.max(m, 0) : m;
    });
    return true;
  }

  /** Top-1 (fraction) at scale p with `ablated` channels replaced by their means; null if cancelled. */
  async accuracy(ablated: readonly number[], p: number): Promise<number | null> {
    const bad = ablated.find((ch) => ch < 0 || ch >= this.channels);
    if (bad !== undefined) throw new Error(`layer ${this.s.layer} has ${this.channels} channels, no channel ${bad}`);
    const keep = new Float32Array(this.channels).fill(1);
    const fill = new Float32Array(this.channels);
    for (const ch of ablated) {
      keep[ch] = 0;
      fill[ch] = this.means[ch];
    }
    const keepT = tf.tensor4d(keep, [1, 1, 1, this.channels]);
    const fillT = tf.tensor4d(fill, [1, 1, 1, this.channels]);
    let correct = 0;
    try {
      for (const [b, batch] of this.batches.entries()) {
        if (this.s.cancelled?.()) return null;
        const acts = await this.activations(p, b);
        const scores = await take(
          tf.tidy(() => {
            const edited = tf.add(tf.mul(acts.tensor, keepT), fillT);
            return this.s.model.forwardFrom!({ [this.s.layer]: edited }, [this.logits])[this.logits];
          }),
        );
        if (acts.owned) acts.tensor.dispose();
        correct += batch.filter((x, i) => argmax(scores, i, scores.length / batch.length) === x.label).length;
        await yieldToEvents();
      }
    } finally {
      tf.dispose([keepT, fillT]);
    }
    return correct / this.s.images.length;
  }

  private async activations(p: number, b: number): Promise<{ tensor: tf.Tensor; owned: boolean }> {
    const cached = this.cache.get(p)?.[b];
    if (cached) return { tensor: cached, owned: false };
    const batch = this.batches[b];
    const pixels = tf.tensor4d(await scaledBatch(batch.map((x) => x.file), p), [batch.length, ABLATION_INPUT, ABLATION_INPUT, 3]);
    const t = this.s.model.forward(pixels, [this.s.layer])[this.s.layer];
    pixels.dispose();
    return { tensor: t, owned: true };
  }

  dispose(): void {
    for (const ts of this.cache.values()) tf.dispose(ts);
    this.cache.clear();
  }
}

/** Mean and standard error (sample std / sqrt(n); null for one value). */
export function meanAndSe(xs: readonly number[]): { mean: number; se: number | null } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, se: null };
  const v = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { mean, se: Math.sqrt(v / n) };
}
