import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/main/engine/backend';
import type { NetworkModel } from '../../../src/main/engine/model';
import { createCellModel } from '../../../src/main/engine/models/ground-truth';
import { precedingConvLayer } from '../../../src/main/engine/fv/layers';
import { loadImageFolder, meanPatchNorm, samplePatches, fitPowerSpectrum } from '../../../src/main/engine/fv/natural-images';
import { centralIndex, closestPair, diversity, minPairDistance, minPairwiseDistance, objectiveInput, pairwiseDistances, PIXELS, unitActivation, unitActivations, weightedSum } from '../../../src/main/engine/fv/objectives';
import { diverseObjective } from '../../../src/main/engine/analyses/diverse';
import { findLayer, rfSizedInput } from '../../../src/main/engine/model';
import { loadModelFile } from '../../../src/main/engine/models/load';
import { FourierPreconditioner } from '../../../src/main/engine/fv/precondition';
import { PixelImages } from '../../../src/main/engine/fv/parameterization';
import { GaussianSpectrumPrior } from '../../../src/main/engine/fv/prior';
import { cropOffsets, cropWindow, pairIndices } from '../../../src/main/engine/analyses/indices';
import { diverseSettings } from '../../../src/shared/analyses/diverse';
import type { LayerInfo } from '../../../src/shared/domain';
import {
  chooseLambdaStar,
  flooredDiversityRatio,
  DEFAULT_LAMBDAS,
  diversityRatio,
  largestCircularGap,
  largestClusterWithin,
} from '../../../src/shared/math/diverse';
import { mulberry32 } from '../../../src/shared/math/random';
import { naturalPatchNorm, NATURAL_SPECTRUM } from '../../../src/shared/math/natural-images';

const SHARED = path.resolve(__dirname, '../../../../shared');

function grating(h: number, w: number, ky: number, kx: number): Float32Array {
  const out = new Float32Array(h * w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[y * w + x] = Math.cos(2 * Math.PI * ((ky * y) / h + (kx * x) / w));
  return out;
}

/** Least-squares gain of `out` against `inp`. */
function gain(out: ArrayLike<number>, inp: ArrayLike<number>): number {
  let a = 0;
  let b = 0;
  for (let i = 0; i < inp.length; i++) {
    a += out[i] * inp[i];
    b += inp[i] * inp[i];
  }
  return a / b;
}

/** Cholesky factor of a symmetric positive definite matrix (row-major n x n), float64. */
function cholesky(a: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = i === j ? Math.sqrt(s) : s / l[j * n + j];
    }
  }
  return l;
}

describe('gradient preconditioning (METHODS §2)', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('divides each frequency by sqrt(|f|) in cycles per image, keeps DC like |f| = 1, mean gain 1', () => {
    for (const [h, w] of [
      [24, 24],
      [9, 12],
    ]) {
      const p = new FourierPreconditioner(h, w);
      const run = (img: Float32Array) =>
        tf.tidy(() => p.apply(tf.tensor4d(img, [1, h, w, 1])).dataSync());
      // Gratings are eigenvectors of the filter: the ratio of two gains is sqrt(|f2| / |f1|).
      const g1 = gain(run(grating(h, w, 1, 0)), grating(h, w, 1, 0));
      const g3 = gain(run(grating(h, w, 3, 4)), grating(h, w, 3, 4));
      const f = (ky: number, kx: number) => Math.max(h, w) * Math.hypot(ky / h, kx / w);
      expect(g1 / g3).toBeCloseTo(Math.sqrt(f(3, 4) / f(1, 0)), 4);
      // DC is left as is: a constant image gets the gain of |f| = 1 cycle per image (one cycle
      // along W, the longer side here).
      const flat = new Float32Array(h * w).fill(1);
      expect(gain(run(flat), flat) / gain(run(grating(h, w, 0, 1)), grating(h, w, 0, 1))).toBeCloseTo(1, 4);
      // The response to a delta at the origin is the mean gain over the whole spectrum.
      const delta = new Float32Array(h * w);
      delta[0] = 1;
      expect(run(delta)[0]).toBeCloseTo(1, 5);
      p.dispose();
    }
  });
});

describe('Gaussian 1/f^2 prior in closed form (METHODS §2)', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('equals the density of the stationary Gaussian built in pixel space, and so does its gradient', () => {
    const [h, w] = [5, 4];
    const n = h * w;
    const spectrum = { amplitude: 12, exponent: 2.3, mean: [120, 110, 100] as [number, number, number] };
    // Independent construction: autocovariance from the spectrum over the full grid, then the
    // circulant covariance matrix, its Cholesky factor, log-determinant and inverse action.
    const psd = (k: number, l: number) => {
      const fy = (k <= h / 2 ? k : k - h) / h;
      const fx = (l <= w / 2 ? l : l - w) / w;
      return spectrum.amplitude * Math.max(Math.hypot(fy, fx), 1 / Math.max(h, w)) ** -spectrum.exponent;
    };
    const cov = (dy: number, dx: number) => {
      let s = 0;
      for (let k = 0; k < h; k++) for (let l = 0; l < w; l++) s += psd(k, l) * Math.cos(2 * Math.PI * ((k * dy) / h + (l * dx) / w));
      return s / n;
    };
    const c = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const dy = (Math.floor(i / w) - Math.floor(j / w) + h) % h;
        const dx = ((i % w) - (j % w) + w) % w;
        c[i * n + j] = cov(dy, dx);
      }
    }
    const l = cholesky(c, n);
    let logDet = 0;
    for (let i = 0; i < n; i++) logDet += 2 * Math.log(l[i * n + i]);
    const solve = (b: Float64Array) => {
      const y = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let s = b[i];
        for (let k = 0; k < i; k++) s -= l[i * n + k] * y[k];
        y[i] = s / l[i * n + i];
      }
      const x = new Float64Array(n);
      for (let i = n - 1; i >= 0; i--) {
        let s = y[i];
        for (let k = i + 1; k < n; k++) s -= l[k * n + i] * x[k];
        x[i] = s / l[i * n + i];
      }
      return x;
    };
    const rand = mulberry32(5);
    const pixels = Float32Array.from({ length: 2 * n * 3 }, () => 60 + 140 * rand());
    const expected = [0, 0];
    const expectedGrad = new Float64Array(pixels.length);
    for (let b = 0; b < 2; b++) {
      for (let ch = 0; ch < 3; ch++) {
        const x = Float64Array.from({ length: n }, (_, i) => pixels[(b * n + i) * 3 + ch] - spectrum.mean[ch]);
        const cx = solve(x);
        const quad = x.reduce((s, v, i) => s + v * cx[i], 0);
        expected[b] += -0.5 * quad - 0.5 * logDet - 0.5 * n * Math.log(2 * Math.PI);
        cx.forEach((v, i) => (expectedGrad[(b * n + i) * 3 + ch] = -v));
      }
    }
    const prior = new GaussianSpectrumPrior(spectrum, h, w);
    const x = tf.tensor4d(pixels, [2, h, w, 3]);
    const got = prior.logDensity(x).dataSync();
    expected.forEach((e, b) => expect(Math.abs(got[b] - e) / Math.abs(e)).toBeLessThan(1e-5));
    const g = tf.grad((t: tf.Tensor) => tf.sum(prior.logDensity(t as tf.Tensor4D)))(x).dataSync();
    let maxErr = 0;
    let scale = 0;
    expectedGrad.forEach((e, i) => {
      maxErr = Math.max(maxErr, Math.abs(g[i] - e));
      scale = Math.max(scale, Math.abs(e));
    });
    expect(maxErr / scale).toBeLessThan(1e-4);
    // Summed over groups of two images (one group here): the sum, and the gradient scaled by its weight.
    const grouped = prior.logDensity(x, 2).dataSync();
    expect(grouped.length).toBe(1);
    expect(Math.abs(grouped[0] - (expected[0] + expected[1])) / Math.abs(expected[0] + expected[1])).toBeLessThan(1e-5);
    const g3 = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(prior.logDensity(t as tf.Tensor4D, 2), 3)))(x).dataSync();
    expectedGrad.forEach((e, i) => expect(Math.abs(g3[i] - 3 * e) / scale).toBeLessThan(3e-4));
    tf.dispose([x]);
    prior.dispose();
  });

  it('fits a spectrum falling about as 1/f^2 to natural patches, matching the stored statistics', async () => {
    const images = loadImageFolder(path.join(SHARED, 'data/imagenet-samples'), 60);
    const patches = samplePatches(images, 24, 600, 11);
    const fit = await fitPowerSpectrum(patches);
    expect(fit.exponent).toBeGreaterThan(1.8);
    expect(fit.exponent).toBeLessThan(3.2);
    expect(Math.abs(fit.exponent - NATURAL_SPECTRUM.exponent)).toBeLessThan(0.3);
    // The stored norm table (measured on all 250 images) against these 60 images.
    const norm = await meanPatchNorm(patches);
    expect(norm / naturalPatchNorm(24)).toBeGreaterThan(0.85);
    expect(norm / naturalPatchNorm(24)).toBeLessThan(1.15);
    patches.dispose();
    // The table interpolates monotonically between and beyond its sizes.
    expect(naturalPatchNorm(20)).toBeGreaterThan(naturalPatchNorm(16));
    expect(naturalPatchNorm(20)).toBeLessThan(naturalPatchNorm(24));
    expect(naturalPatchNorm(300)).toBeGreaterThan(naturalPatchNorm(224));
    expect(() => naturalPatchNorm(0)).toThrow(/at least 1/);
  });
});

describe('the lambda* rule and the diversity ratio (METHODS §2)', () => {
  const lambdas = [0, 0.02, 0.04, 0.08, 0.16, 0.32];

  it('takes the largest lambda whose activation reaches tau a(0)', () => {
    expect(chooseLambdaStar(lambdas, [10, 9.9, 9.6, 9.2, 8.7, 7], 0.9)).toEqual({ index: 3, lambda: 0.08, threshold: 9, imageThreshold: null });
    // Not the first crossing: a later lambda that comes back above the bound wins.
    expect(chooseLambdaStar(lambdas, [10, 8, 9.5, 7, 9.0, 3], 0.9).index).toBe(4);
    // Nothing qualifies: lambda* = 0.
    expect(chooseLambdaStar(lambdas, [10, 5, 4, 3, 2, 1], 0.9).lambda).toBe(0);
    // All qualify with tau 0.8: the last one.
    expect(chooseLambdaStar(lambdas, [10, 9, 8.5, 8.2, 8.1, 8.0], 0.8).index).toBe(5);
    expect(() => chooseLambdaStar([0.02, 0.04], [1, 1], 0.9)).toThrow(/start at lambda = 0/);
    expect(() => chooseLambdaStar(lambdas, [1, 2], 0.9)).toThrow(/6 lambdas but 2/);
    expect(diversityRatio(3, 1.5)).toBe(2);
    expect(diversityRatio(3, 0)).toBeNull();
  });

  // Issue 15, point 13: on the simple cell at lambda 5.12 five images kept a(0) = 2.73 and one
  // died (0), mean 2.275 >= 0.8 a(0), and lambda* took it; the dead template pushed LC to 1.04.
  it('needs every image at or above a fraction of a(0) when a per-image condition is given', () => {
    const means = [2.73, 2.73, 2.275, 2.27, 0.85];
    const lowest = [2.73, 2.73, 0, 0, 0];
    const l = lambdas.slice(0, 5);
    expect(chooseLambdaStar(l, means, 0.8).index).toBe(3); // the mean rule alone takes a dead image
    const star = chooseLambdaStar(l, means, 0.8, { lowest, fraction: 0.5 });
    expect(star).toEqual({ index: 1, lambda: 0.02, threshold: 0.8 * 2.73, imageThreshold: 0.5 * 2.73 });
    // Fraction 0 is the mean rule; a lambda without a stored lowest activation counts as met.
    expect(chooseLambdaStar(l, means, 0.8, { lowest, fraction: 0 }).index).toBe(3);
    expect(chooseLambdaStar(l, means, 0.8, { lowest: [2.73, 2.73], fraction: 0.5 }).index).toBe(3);
  });

  // Issue 15, point 12: the complex cell's images collapsed at lambda = 0 (D(0) = 1.5e-6) and the
  // raw ratio was 3.6e6; the floor is the noise distance (0.178 there).
  it('floors both distances of the diversity ratio at the noise distance', () => {
    expect(diversityRatio(5.32, 1.5e-6)).toBeGreaterThan(1e6);
    expect(flooredDiversityRatio(5.32, 1.5e-6, 0.178)).toBeCloseTo(5.32 / 0.178, 6);
    // Both collapsed (simple cell: 6.4e-4 and 1e-6 against 0.035): no more diverse, ratio 1.
    expect(flooredDiversityRatio(6.4e-4, 1e-6, 0.035)).toBe(1);
    // Above the floor the raw ratio stands; no floor (null or 0) is the raw ratio.
    expect(flooredDiversityRatio(8, 2, 0.5)).toBe(4);
    expect(flooredDiversityRatio(8, 0, null)).toBeNull();
    expect(flooredDiversityRatio(8, 2, 0)).toBe(4);
  });

  it('has the METHODS sweep: 0, then 0.02 doubling to 20.48', () => {
    expect(DEFAULT_LAMBDAS).toEqual([0, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48]);
  });

  it('reads phase clusters and gaps on the circle', () => {
    expect(largestCircularGap([10, 70, 130, 190, 250, 310])).toBeCloseTo(60);
    expect(largestCircularGap([350, 5, 20])).toBeCloseTo(330);
    expect(largestClusterWithin([355, 2, 20, 100, 180, 181], 30)).toBe(3);
    expect(largestClusterWithin([0, 45, 90, 135], 30)).toBe(1);
  });
});

describe('objective pieces', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it("takes each image's own unit, and the minimum over distinct pairs", () => {
    // Two units (channels 2 and 5) with three images each, on a 3 x 3 x 6 layer output.
    const out = tf.tensor4d(Float32Array.from({ length: 6 * 3 * 3 * 6 }, (_, i) => i), [6, 3, 3, 6]);
    const spec = { layer: 'l', channels: [2, 5], imagesPerGroup: 3, position: null, rf: { size: 5, jump: 2, offset: 1 }, inputSide: 5 };
    // Centre of a 5 px input is 2; unit centres are 1 + 2 i: i = round(0.5) = 1.
    expect(centralIndex(spec.rf, 5, 3)).toBe(1);
    const got = unitActivations(out, spec).dataSync();
    const at = (b: number, c: number) => ((b * 3 + 1) * 3 + 1) * 6 + c;
    expect(Array.from(got)).toEqual([at(0, 2), at(1, 2), at(2, 2), at(3, 5), at(4, 5), at(5, 5)]);
    expect(() => unitActivations(out, { ...spec, channels: [2, 9] })).toThrow(/no channel 9/);
    const feats = tf.tensor2d([0, 0, 3, 4, 6, 8, 0, 0, 1, 0, 5, 0], [6, 2]);
    const d = pairwiseDistances(feats, 3);
    expect(d.arraySync()[0][0][1]).toBeCloseTo(5, 4);
    expect(Array.from(minPairwiseDistance(d).dataSync()).map((v) => +v.toFixed(4))).toEqual([5, 1]);
    tf.dispose([out, feats, d]);
  });

  it('finds the closest pair from a Gram matrix, with the value and gradient of the broadcast minimum', () => {
    const rand = mulberry32(11);
    // Three groups of six images with 20,000 features of ReLU-like scale; in group 1 two images
    // nearly coincide (distance about 1, far below the Gram form's cancellation error).
    const data = Float32Array.from({ length: 18 * 20_000 }, () => Math.max(0, rand() * 200 - 60));
    for (let k = 0; k < 20_000; k++) data[7 * 20_000 + k] = data[8 * 20_000 + k] + (rand() - 0.5) * 0.02;
    const feats = tf.tensor2d(data, [18, 20_000]);
    const broadcastMin = (f: tf.Tensor) => minPairwiseDistance(pairwiseDistances(f as tf.Tensor2D, 6));
    const want = broadcastMin(feats).dataSync();
    const got = minPairDistance(feats, 6).dataSync();
    expect(want[1]).toBeLessThan(2);
    want.forEach((w, g) => expect(Math.abs(got[g] - w)).toBeLessThan(1e-5 * w + 1e-6));
    // The broadcast minimum over the symmetric matrix meets each closest pair twice, (i, j) and
    // (j, i), and tfjs gives every tied minimum the whole gradient: it weighed the term 2 lambda.
    // The reference is the minimum over the pairs i < j, each counted once.
    const upper = tf.tensor3d(Array.from({ length: 36 }, (_, k) => (Math.floor(k / 6) < k % 6 ? 0 : 1e30)), [1, 6, 6]);
    const pairsMin = (f: tf.Tensor) => tf.min(tf.add(pairwiseDistances(f as tf.Tensor2D, 6), upper), [1, 2]);
    const gNew = tf.grad((f: tf.Tensor) => tf.sum(minPairDistance(f as tf.Tensor2D, 6)))(feats);
    const gRef = tf.grad((f: tf.Tensor) => tf.sum(pairsMin(f)))(feats);
    const gOld = tf.grad((f: tf.Tensor) => tf.sum(broadcastMin(f)))(feats);
    const scale = tf.max(tf.abs(gRef)).dataSync()[0];
    expect(scale).toBeGreaterThan(0);
    expect(tf.max(tf.abs(tf.sub(gNew, gRef))).dataSync()[0]).toBeLessThan(1e-4 * scale);
    expect(tf.max(tf.abs(tf.sub(tf.mul(gNew, 2), gOld))).dataSync()[0]).toBeLessThan(2e-4 * scale);
    // Coinciding images: a finite gradient, as with the broadcast form's epsilon.
    const twins = tf.tensor2d([1, 2, 1, 2, 5, 5], [3, 2]);
    expect(minPairDistance(twins, 3).dataSync()[0]).toBeCloseTo(1e-6, 7);
    expect(tf.all(tf.isFinite(tf.grad((f: tf.Tensor) => tf.sum(minPairDistance(f as tf.Tensor2D, 3)))(twins))).dataSync()[0]).toBe(1);
    tf.dispose([feats, upper, gNew, gRef, gOld, twins]);
  });

  it("projects out each image's radial gradient: what is left is orthogonal to the image", () => {
    const images = new PixelImages({ seeds: [4, 5, 6], height: 9, width: 7, norm: 300, meanPixel: [120, 110, 100], tangentGradient: true });
    const rand = mulberry32(13);
    const g = tf.tensor4d(Float32Array.from({ length: 3 * 9 * 7 * 3 }, () => rand() - 0.3), [3, 9, 7, 3]);
    const projected = images.projectGradient(g);
    const v = images.variable;
    // g - (g . v / |v|^2) v per image, computed directly.
    const direct = tf.sub(g, tf.mul(tf.div(tf.sum(tf.mul(g, v), [1, 2, 3], true), tf.sum(tf.square(v), [1, 2, 3], true)), v));
    expect(tf.max(tf.abs(tf.sub(projected, direct))).dataSync()[0]).toBeLessThan(1e-5);
    const along = tf.sum(tf.mul(projected, v), [1, 2, 3]).dataSync();
    along.forEach((a) => expect(Math.abs(a)).toBeLessThan(1e-3));
    tf.dispose([g, projected, direct]);
    images.dispose();
  });

  it('picks the same closest pair by reading the Gram matrices as by tensor ops, the first of tied pairs', () => {
    const rand = mulberry32(12);
    const f = tf.tensor3d(Float32Array.from({ length: 5 * 6 * 300 }, () => rand() * 10), [5, 6, 300]);
    // Ties: images 1, 3 and 4 of group 0 are equal, so (1, 3) is the first closest pair.
    const tied = tf.tensor3d([0, 0, 1, 1, 5, 9, 1, 1, 1, 1, 7, 3], [1, 6, 2]);
    for (const t of [f, tied]) {
      const [host, device] = [closestPair(t, true), closestPair(t, false)];
      expect(Array.from(host.dataSync())).toEqual(Array.from(device.dataSync()));
      tf.dispose([host, device]);
    }
    expect(Array.from(closestPair(tied, true).dataSync())).toEqual([0, 1, 0, -1, 0, 0]);
    tf.dispose([f, tied]);
  });

  it("reads a unit's layer at the unit's position alone, with the value and gradient of the whole layer (VGG-19 relu3_1)", async () => {
    const vgg = await loadModelFile(path.join(SHARED, 'models/vgg19_features_to_pool3_caffe_rgb.onnx'));
    const layer = findLayer(vgg, 'relu3_1');
    const side = rfSizedInput(layer);
    const spec = { layer: 'relu3_1', channels: [3, 40], imagesPerGroup: 3, position: null, rf: layer.rf, inputSide: side };
    const prior = new GaussianSpectrumPrior(NATURAL_SPECTRUM, side, side);
    const objective = diverseObjective(spec, prior, 0.0005, precedingConvLayer(vgg, 'relu3_1'), 0.3);
    const c = centralIndex(layer.rf, side, Infinity);
    expect(objective.positions).toEqual({ relu3_1: [c, c] });
    expect(objective.channels).toEqual({ relu3_1: [3, 40] });
    // A term that needs the layer whole keeps the whole layer.
    expect(weightedSum([[unitActivation(spec), 1], [diversity('relu3_1', 3), 1]]).positions).toEqual({});
    const rand = mulberry32(21);
    const pixels = tf.tensor4d(Float32Array.from({ length: 6 * side * side * 3 }, () => 40 + 170 * rand()), [6, side, side, 3]);
    const value = (p: tf.Tensor, restrict: boolean) =>
      objective.evaluate(restrict ? objectiveInput(vgg, p as tf.Tensor4D, objective) : { acts: vgg.forward(p as tf.Tensor4D, objective.layers), pixels: p as tf.Tensor4D });
    const input = objectiveInput(vgg, pixels, objective);
    expect(input.restricted).toEqual(new Set(['relu3_1']));
    expect(input.acts.relu3_1.shape).toEqual([6, 1, 1, 2]);
    tf.dispose(Object.values(input.acts));
    const [a, b] = [await value(pixels, true).data(), await value(pixels, false).data()];
    a.forEach((v, g) => expect(Math.abs(v - b[g])).toBeLessThan(1e-4 * Math.abs(b[g])));
    const [ga, gb] = [tf.grad((p) => tf.sum(value(p, true)))(pixels), tf.grad((p) => tf.sum(value(p, false)))(pixels)];
    const scale = (await tf.max(tf.abs(gb)).data())[0];
    expect(scale).toBeGreaterThan(0);
    expect((await tf.max(tf.abs(tf.sub(ga, gb))).data())[0]).toBeLessThan(1e-4 * scale);
    tf.dispose([pixels, ga, gb]);
    prior.dispose();
    vgg.dispose();
  });

  it('measures diversity in the conv layer preceding the unit', () => {
    const cell = createCellModel('complex-cell');
    expect(precedingConvLayer(cell, 'response')).toBe('subunits');
    expect(precedingConvLayer(cell, 'subunits')).toBe(PIXELS);
    cell.dispose();
    const layer = (name: string, op: string): LayerInfo => ({ name, op, shape: [1, 1, 1] });
    const vggLike = {
      layers: [
        layer('conv1_1', 'Conv'),
        layer('relu1_1', 'Relu'),
        layer('conv1_2', 'Conv'),
        layer('relu1_2', 'Relu'),
        layer('pool1', 'MaxPool'),
        layer('conv2_1', 'Conv'),
        layer('relu2_1', 'Relu'),
      ],
    } as unknown as NetworkModel;
    expect(precedingConvLayer(vggLike, 'relu2_1')).toBe('relu1_2');
    expect(precedingConvLayer(vggLike, 'conv2_1')).toBe('relu1_2');
    expect(precedingConvLayer(vggLike, 'pool1')).toBe('relu1_2');
    expect(precedingConvLayer(vggLike, 'relu1_1')).toBe(PIXELS);
    expect(() => precedingConvLayer(vggLike, 'conv9')).toThrow(/no layer "conv9"/);
  });

  it('builds the shift-invariance window and crops, and the pairs of the LC index', () => {
    const w = cropWindow(24);
    const at = (y: number, x: number) => w[y * 24 + x];
    // r = sigma = 24 / 2.4 = 10 from the centre (11.5, 11.5): exp(-1).
    expect(at(11, 11)).toBeGreaterThan(0.99);
    const r = Math.hypot(0.5, 10.5);
    expect(at(11, 22)).toBeCloseTo(Math.exp(-((r / 10) ** 4)), 6);
    expect(cropOffsets(24, 1)).toHaveLength(24);
    expect(cropOffsets(24, 5)).toEqual([0, 5, 10, 15, 20]);
    expect(pairIndices(6)).toHaveLength(15);
  });
});

describe('diverse settings', () => {
  it('default to the METHODS values and read the CLI forms', () => {
    const s = diverseSettings.parse({});
    expect(s).toMatchObject({
      images: 6,
      lambdas: [...DEFAULT_LAMBDAS],
      maxSteps: 1000,
      learningRate: 0.1,
      patience: 100,
      emaDecay: 0.9,
      tauTrained: 0.9,
      tauCellModel: 0.8,
      textureCropStride: 1,
      prior: 'gaussian',
      priorAlpha: 0.0005,
      precondition: true,
    });
    expect(diverseSettings.parse({ units: '0-3,7', lambdas: '0,0.5,2' })).toMatchObject({ units: [0, 1, 2, 3, 7], lambdas: [0, 0.5, 2] });
    expect(() => diverseSettings.parse({ lambdas: [0.1, 0.2] })).toThrow(/start at 0/);
    expect(() => diverseSettings.parse({ lambdas: [0, 0.2, 0.1] })).toThrow(/increase/);
    expect(() => diverseSettings.parse({ images: 1 })).toThrow();
  });
});
