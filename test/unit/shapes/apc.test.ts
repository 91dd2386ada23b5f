// APC model fits (METHODS §10): the grid, the prediction matrix, and the fast tfjs fit checked
// against the plain reference fit and against units whose true APC model is known.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/main/engine/backend';
import { ApcFitter, shuffleStimuli } from '../../../src/main/engine/apc-fit';
import { shippedApcPoints, shippedV4Fits } from '../../../src/main/engine/shape-data';
import {
  APC_GRID,
  APC_MODEL_COUNT,
  apcModelIndex,
  apcModelParams,
  apcPredict,
  apcPredictionMatrix,
  fitApcReference,
  selectStimuli,
  stimulusCount,
  type ApcParams,
} from '../../../src/shared/math/apc';
import { gaussian, mulberry32 } from '../../../src/shared/math/random';
import { STANDARD_SET_INDICES } from '../../../src/shared/math/shapes';

const points = selectStimuli(shippedApcPoints(), STANDARD_SET_INDICES);
const S = stimulusCount(points);
let matrix: Float32Array;
let fitter: ApcFitter;

function sd(v: ArrayLike<number>): number {
  const a = Array.from(v);
  const m = a.reduce((x, y) => x + y, 0) / a.length;
  return Math.sqrt(a.reduce((x, y) => x + (y - m) ** 2, 0) / a.length);
}

function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) { ma += a[i] / n; mb += b[i] / n; }
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < n; i++) { ab += (a[i] - ma) * (b[i] - mb); aa += (a[i] - ma) ** 2; bb += (b[i] - mb) ** 2; }
  return ab / Math.sqrt(aa * bb);
}

function ranks(v: number[]): number[] {
  const order = v.map((x, i) => [x, i]).sort((p, q) => p[0] - q[0]);
  const r = new Array<number>(v.length);
  order.forEach(([, i], k) => (r[i] = k));
  return r;
}

/** Units as columns of a [stimulus, unit] matrix, the layout a layer's responses have. */
function columns(units: ArrayLike<number>[]): Float32Array {
  const out = new Float32Array(S * units.length);
  units.forEach((u, k) => { for (let s = 0; s < S; s++) out[s * units.length + k] = u[s]; });
  return out;
}

/** Response of a unit whose tuning is the APC model `m`, plus Gaussian noise of `level` x its SD. */
function noisyUnit(m: ApcParams, level: number, rand: () => number): Float64Array {
  const pred = apcPredict(points, m);
  const noise = level * sd(pred);
  return pred.map((p) => p + noise * gaussian(rand));
}

beforeAll(async () => {
  await initBackend();
  matrix = apcPredictionMatrix(points);
  fitter = new ApcFitter(matrix);
});
afterAll(() => fitter.dispose());

describe('APC model and grid', () => {
  it('the grid is the one of METHODS §10: 16^4 = 65,536 models', () => {
    const deg = (r: number) => (r * 180) / Math.PI;
    expect(APC_MODEL_COUNT).toBe(65_536);
    expect(APC_GRID.muA.map(deg).map((d) => +d.toFixed(9))).toEqual(Array.from({ length: 16 }, (_, i) => i * 22.5));
    expect(APC_GRID.muC.map((c) => +c.toFixed(9))).toEqual([-0.5, -0.4, -0.3, -0.2, -0.1, 0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    const logSpaced = (v: readonly number[], from: number, to: number) => {
      expect(v).toHaveLength(16);
      expect(v[0]).toBeCloseTo(from, 12);
      expect(v[15]).toBeCloseTo(to, 12);
      for (let i = 1; i < 16; i++) expect(v[i] / v[i - 1]).toBeCloseTo(Math.pow(to / from, 1 / 15), 12);
    };
    logSpaced(APC_GRID.sigmaA.map(deg), 23, 171);
    logSpaced(APC_GRID.sigmaC, 0.09, 0.98);
    const idx = apcModelIndex(3, 7, 11, 15);
    expect(apcModelParams(idx)).toEqual({ muA: APC_GRID.muA[3], sigmaA: APC_GRID.sigmaA[7], muC: APC_GRID.muC[11], sigmaC: APC_GRID.sigmaC[15] });
    expect(() => apcModelParams(APC_MODEL_COUNT)).toThrow(/no APC model/);
  });

  it('the prediction is the max over boundary points of a von Mises (kappa = 1/sigma) times Gaussian density', () => {
    // Independent densities with their normalizing constants (I0 by its power series): the
    // model's prediction must be proportional to them, stimulus by stimulus.
    const besselI0 = (x: number) => { let s = 0, t = 1; for (let k = 0; k < 60; k++) { if (k > 0) t *= (x / 2) ** 2 / (k * k); s += t; } return s; };
    const m = { muA: 1.2, sigmaA: 0.6, muC: 0.3, sigmaC: 0.25 };
    const kappa = 1 / m.sigmaA;
    const density = (a: number, c: number) =>
      (Math.exp(kappa * Math.cos(a - m.muA)) / (2 * Math.PI * besselI0(kappa))) *
      (Math.exp(-((c - m.muC) ** 2) / (2 * m.sigmaC ** 2)) / (m.sigmaC * Math.sqrt(2 * Math.PI)));
    const pred = apcPredict(points, m);
    const ratios: number[] = [];
    for (let s = 0; s < S; s++) {
      let best = 0;
      for (let q = points.offsets[s]; q < points.offsets[s + 1]; q++) best = Math.max(best, density(points.angle[q], points.curvature[q]));
      ratios.push(pred[s] / best);
    }
    for (const r of ratios) expect(r / ratios[0]).toBeCloseTo(1, 10);
  });

  it('each row of the prediction matrix is the normalized direct prediction of its model', () => {
    const rand = mulberry32(5);
    for (let t = 0; t < 200; t++) {
      const m = Math.floor(rand() * APC_MODEL_COUNT);
      const direct = apcPredict(points, apcModelParams(m));
      const row = matrix.subarray(m * S, (m + 1) * S);
      expect(pearson(row, direct)).toBeGreaterThan(1 - 1e-6);
      expect(Math.abs(row.reduce((a, b) => a + b, 0))).toBeLessThan(1e-4);
      expect(Math.sqrt(row.reduce((a, b) => a + b * b, 0))).toBeCloseTo(1, 5);
    }
  });
});

describe('APC fit', () => {
  it('a unit that is a grid model (any gain and offset) is recovered with r = 1 and its exact parameters', async () => {
    const rand = mulberry32(11);
    const truth = [0, APC_MODEL_COUNT - 1, apcModelIndex(4, 8, 12, 3), ...Array.from({ length: 20 }, () => Math.floor(rand() * APC_MODEL_COUNT))];
    const units = truth.map((m, k) => apcPredict(points, apcModelParams(m)).map((p) => (1 + k) * p - 3 + k));
    const fit = await fitter.fit(columns(units), units.length);
    truth.forEach((m, k) => {
      expect(fit.model[k], `unit ${k}`).toBe(m);
      expect(fit.r[k]).toBeGreaterThan(1 - 1e-5);
    });
  });

  it('with noise added, r falls as the noise grows, as expected from the signal-to-noise ratio', async () => {
    const rand = mulberry32(3);
    const truth = apcModelParams(apcModelIndex(6, 5, 9, 4));
    const levels = [0, 0.25, 0.5, 1, 2, 4];
    const reps = 40;
    const units: Float64Array[] = [];
    for (const level of levels) for (let k = 0; k < reps; k++) units.push(noisyUnit(truth, level, rand));
    const fit = await fitter.fit(columns(units), units.length);
    const meanR = levels.map((_, i) => fit.r.subarray(i * reps, (i + 1) * reps).reduce((a, b) => a + b, 0) / reps);
    for (let i = 1; i < levels.length; i++) expect(meanR[i]).toBeLessThan(meanR[i - 1]);
    levels.forEach((level, i) => {
      // The true model alone correlates 1/sqrt(1 + level^2) in expectation; the best of 65,536
      // models can only do better, and not by much while the signal dominates.
      const expected = 1 / Math.sqrt(1 + level ** 2);
      expect(meanR[i]).toBeGreaterThan(expected - 0.02);
      if (level <= 1) expect(meanR[i]).toBeLessThan(expected + 0.03);
    });
    // Per unit, the fit is at least as good as the true model.
    const truePred = apcPredict(points, truth);
    units.forEach((u, k) => expect(fit.r[k]).toBeGreaterThan(pearson(truePred, u) - 1e-5));
  });

  it('synthetic V4 neurons from the 109 shipped fits: fitted r falls with their noise level', async () => {
    const rand = mulberry32(109);
    const neurons = shippedV4Fits()
      .map((f) => apcPredict(points, f))
      .filter((pred) => sd(pred) > 1e-9 * Math.max(...pred)); // a fit can predict the same for every shape
    expect(neurons.length).toBeGreaterThan(100);
    const levels = neurons.map(() => 2 * rand());
    const units = neurons.map((pred, k) => {
      const noise = levels[k] * sd(pred);
      return pred.map((p) => p + noise * gaussian(rand));
    });
    const fit = await fitter.fit(columns(units), units.length);
    const rho = pearson(ranks(levels), ranks(Array.from(fit.r)));
    expect(rho).toBeLessThan(-0.8);
  });

  it('the tfjs fit agrees with the plain double-precision reference', async () => {
    const rand = mulberry32(21);
    const v4 = shippedV4Fits()[0];
    const units = [
      apcPredict(points, apcModelParams(31_337)),
      noisyUnit(apcModelParams(1_234), 0.5, rand),
      noisyUnit(v4, 1, rand),
      Float64Array.from({ length: S }, () => rand()),
      Float64Array.from({ length: S }, () => Math.exp(2 * gaussian(rand))),
    ];
    const reference = fitApcReference(points, units);
    const fast = await fitter.fit(columns(units), units.length);
    reference.forEach((ref, k) => {
      expect(fast.r[k], `unit ${k}`).toBeCloseTo(ref.r, 5);
      if (fast.model[k] !== ref.model) {
        // Only a near-tie may pick another model: its reference r must be as good.
        const other = pearson(apcPredict(points, apcModelParams(fast.model[k])), units[k]);
        expect(other).toBeCloseTo(ref.r, 5);
      }
    });
    expect(reference[0]).toEqual({ r: expect.closeTo(1, 12), model: 31_337 });
  });

  it('shuffled control: same responses per unit in a seeded random order; r drops', async () => {
    const units = [apcModelIndex(2, 3, 14, 2), apcModelIndex(9, 1, 6, 6)].map((m) => apcPredict(points, apcModelParams(m)));
    const data = columns(units);
    const shuffled = shuffleStimuli(data, S, 2, 7);
    expect(shuffleStimuli(data, S, 2, 7)).toEqual(shuffled);
    expect(shuffleStimuli(data, S, 2, 8)).not.toEqual(shuffled);
    for (let u = 0; u < 2; u++) {
      const col = (d: Float32Array) => Array.from({ length: S }, (_, s) => d[s * 2 + u]).sort((a, b) => a - b);
      expect(col(shuffled)).toEqual(col(data));
    }
    const fit = await fitter.fitShuffled(data, 2, 7);
    for (const r of fit.r) expect(r).toBeLessThan(0.35);
  });

  it('constant units give NaN, bad input a clear error, and no tensors are left behind', async () => {
    const before = tf.memory().numTensors;
    const fit = await fitter.fit(columns([new Float64Array(S).fill(3), apcPredict(points, apcModelParams(5))]), 2);
    expect(fit.r[0]).toBeNaN();
    expect(fit.model[0]).toBe(-1);
    expect(fit.model[1]).toBe(5);
    expect(tf.memory().numTensors).toBe(before);
    await expect(fitter.fit(new Float32Array(10), 1)).rejects.toThrow(/362 stimuli/);
    await expect(fitter.fit(columns([new Float64Array(S).fill(NaN)]), 1)).rejects.toThrow(/not a finite number/);
  });
});
