// Fast APC fit for many units at once (METHODS §10): the correlation of every unit with every
// grid model is one matrix product of the normalized predictions with the normalized responses;
// each unit keeps its largest correlation and the model that gives it.
import * as tf from '@tensorflow/tfjs';
import { APC_MODEL_COUNT, normalizeInPlace } from '../../shared/math/apc';
import { mulberry32 } from '../../shared/math/random';

export interface ApcFitResults {
  /** Per unit: the largest correlation with any grid model; NaN for a unit with constant responses. */
  r: Float32Array;
  /** Per unit: the model index that gives it (see apcModelParams); -1 for constant responses. */
  model: Int32Array;
}

export interface ApcFitterOptions {
  /**
   * Models per matrix product. The product for a chunk is [units x chunk]; small chunks keep it
   * in cache (512-1024 is fastest on a 2-core CPU) and bound memory.
   */
  modelsPerChunk?: number;
  /** Units per pass; bounds the [units x chunk] product and the uploaded responses. */
  unitsPerPass?: number;
}

/**
 * Holds the normalized prediction matrix [models x stimuli] (from apcPredictionMatrix) on the
 * backend; fit() may be called many times. Call dispose() when done.
 */
export class ApcFitter {
  readonly stimuli: number;
  private readonly predictions: tf.Tensor2D;
  private readonly modelsPerChunk: number;
  private readonly unitsPerPass: number;

  constructor(predictions: Float32Array, options: ApcFitterOptions = {}) {
    if (predictions.length % APC_MODEL_COUNT !== 0) {
      throw new Error(`prediction matrix has ${predictions.length} values, not a multiple of ${APC_MODEL_COUNT} models`);
    }
    this.stimuli = predictions.length / APC_MODEL_COUNT;
    this.modelsPerChunk = options.modelsPerChunk ?? 1024;
    this.unitsPerPass = options.unitsPerPass ?? 4096;
    this.predictions = tf.tensor2d(predictions, [APC_MODEL_COUNT, this.stimuli]);
  }

  /**
   * Fits every unit. `responses` is row-major [stimulus, unit] (a batch of stimuli through a
   * layer gives this layout), `units` columns.
   */
  async fit(responses: Float32Array, units: number): Promise<ApcFitResults> {
    const normalized = this.normalizedUnits(responses, units);
    const r = new Float32Array(units);
    const model = new Int32Array(units);
    for (let start = 0; start < units; start += this.unitsPerPass) {
      const count = Math.min(this.unitsPerPass, units - start);
      const pass = await this.bestModels(normalized.values.subarray(start * this.stimuli, (start + count) * this.stimuli), count);
      r.set(pass.r, start);
      model.set(pass.model, start);
    }
    normalized.constant.forEach((u) => {
      r[u] = NaN;
      model[u] = -1;
    });
    return { r, model };
  }

  /**
   * The shuffled control: each unit's responses permuted across stimuli (its own permutation,
   * from `seed`), then fitted the same way.
   */
  fitShuffled(responses: Float32Array, units: number, seed: number): Promise<ApcFitResults> {
    return this.fit(shuffleStimuli(responses, this.stimuli, units, seed), units);
  }

  dispose(): void {
    this.predictions.dispose();
  }

  /** Units as rows [unit, stimulus], each zero-mean and unit-norm; constant units become zeros. */
  private normalizedUnits(responses: Float32Array, units: number): { values: Float32Array; constant: number[] } {
    const n = this.stimuli;
    if (!(Number.isInteger(units) && units > 0)) throw new Error(`unit count must be a positive integer, got ${units}`);
    if (responses.length !== n * units) {
      throw new Error(`responses have ${responses.length} values, expected ${n} stimuli x ${units} units = ${n * units}`);
    }
    const values = new Float32Array(units * n);
    const column = new Float64Array(n);
    const constant: number[] = [];
    for (let u = 0; u < units; u++) {
      for (let s = 0; s < n; s++) column[s] = responses[s * units + u];
      if (column.some((v) => !Number.isFinite(v))) throw new Error(`unit ${u} has a response that is not a finite number`);
      if (!normalizeInPlace(column)) constant.push(u);
      values.set(column, u * n);
    }
    return { values, constant };
  }

  /** Running maximum over model chunks of [units x chunk] correlation blocks. */
  private async bestModels(unitRows: Float32Array, units: number): Promise<ApcFitResults> {
    const chunk = this.modelsPerChunk;
    const n = this.stimuli;
    const u = tf.tensor2d(unitRows, [units, n]);
    let bestR: tf.Tensor1D = tf.fill([units], -Infinity);
    let bestModel: tf.Tensor1D = tf.fill([units], -1, 'int32');
    try {
      for (let start = 0; start < APC_MODEL_COUNT; start += chunk) {
        const size = Math.min(chunk, APC_MODEL_COUNT - start);
        const [r, m] = tf.tidy(() => {
          const block = tf.matMul(u, tf.slice(this.predictions, [start, 0], [size, n]), false, true);
          const chunkR = tf.max(block, 1);
          const chunkModel = tf.add(tf.argMax(block, 1), tf.scalar(start, 'int32'));
          // Strictly greater: on ties the earlier model stays, as in the reference fit.
          const better = tf.greater(chunkR, bestR);
          return [tf.where(better, chunkR, bestR), tf.where(better, chunkModel, bestModel)] as [tf.Tensor1D, tf.Tensor1D];
        });
        tf.dispose([bestR, bestModel]);
        bestR = r;
        bestModel = m;
      }
      const [rValues, modelValues] = await Promise.all([bestR.data(), bestModel.data()]);
      return { r: Float32Array.from(rValues), model: Int32Array.from(modelValues) };
    } finally {
      tf.dispose([u, bestR, bestModel]);
    }
  }
}

/** Copy of [stimulus, unit] responses with each unit's column permuted (Fisher-Yates, seeded). */
export function shuffleStimuli(responses: Float32Array, stimuli: number, units: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  const out = new Float32Array(responses.length);
  const order = new Int32Array(stimuli);
  for (let u = 0; u < units; u++) {
    for (let s = 0; s < stimuli; s++) order[s] = s;
    for (let s = stimuli - 1; s > 0; s--) {
      const j = Math.floor(rand() * (s + 1));
      const t = order[s];
      order[s] = order[j];
      order[j] = t;
    }
    for (let s = 0; s < stimuli; s++) out[s * units + u] = responses[order[s] * units + u];
  }
  return out;
}
