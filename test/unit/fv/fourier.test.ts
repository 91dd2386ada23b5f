import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/main/engine/backend';
import {
  acquireDftBasis,
  frequencyMagnitudes,
  irfft2d,
  planeFilter,
  releaseDftBasis,
  rfft2d,
} from '../../../src/main/engine/fourier';
import { mulberry32 } from '../../../src/shared/math/random';

/** Plain O(H^2 W^2) DFT of one channel of one image: the independent reference. */
function directDft(img: Float64Array, h: number, w: number): { re: Float64Array; im: Float64Array } {
  const re = new Float64Array(h * w);
  const im = new Float64Array(h * w);
  for (let k = 0; k < h; k++) {
    for (let l = 0; l < w; l++) {
      let sr = 0;
      let si = 0;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const a = -2 * Math.PI * ((k * y) / h + (l * x) / w);
          sr += img[y * w + x] * Math.cos(a);
          si += img[y * w + x] * Math.sin(a);
        }
      }
      re[k * w + l] = sr;
      im[k * w + l] = si;
    }
  }
  return { re, im };
}

function randomImages(n: number, h: number, w: number, c: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  return Float32Array.from({ length: n * h * w * c }, () => rand() * 2 - 1);
}

/** Channel `ch` of image `b` of an NHWC array, as a float64 H x W plane. */
function plane(data: Float32Array, b: number, h: number, w: number, c: number, ch: number): Float64Array {
  const out = new Float64Array(h * w);
  for (let i = 0; i < h * w; i++) out[i] = data[(b * h * w + i) * c + ch];
  return out;
}

const SIZES: [number, number][] = [
  [6, 6],
  [5, 7],
  [8, 5],
  [7, 4],
];

describe('2-D real Fourier transform as DFT-basis products', () => {
  beforeAll(async () => {
    await initBackend();
  });

  for (const [h, w] of SIZES) {
    it(`matches a direct DFT and inverts exactly for ${h} x ${w}`, () => {
      const [n, c] = [2, 3];
      const data = randomImages(n, h, w, c, h * 100 + w);
      const basis = acquireDftBasis(h, w);
      const x = tf.tensor4d(data, [n, h, w, c]);
      const spec = rfft2d(x, basis);
      const half = Math.floor(w / 2) + 1;
      expect(spec.re.shape).toEqual([n, h, half, c]);
      const re = spec.re.dataSync();
      const im = spec.im.dataSync();
      let maxErr = 0;
      for (let b = 0; b < n; b++) {
        for (let ch = 0; ch < c; ch++) {
          const ref = directDft(plane(data, b, h, w, c, ch), h, w);
          for (let k = 0; k < h; k++) {
            for (let l = 0; l < half; l++) {
              const i = ((b * h + k) * half + l) * c + ch;
              maxErr = Math.max(maxErr, Math.abs(re[i] - ref.re[k * w + l]), Math.abs(im[i] - ref.im[k * w + l]));
            }
          }
        }
      }
      expect(maxErr).toBeLessThan(1e-4);
      const back = irfft2d(spec, basis).dataSync();
      expect(Math.max(...back.map((v, i) => Math.abs(v - data[i])))).toBeLessThan(1e-5);
      // Orthonormal scaling preserves the energy (Parseval over the full spectrum).
      const ortho = rfft2d(x, basis, 'ortho');
      const energy = tf.tidy(() => {
        const p = tf.add(tf.square(ortho.re), tf.square(ortho.im));
        const weights = tf.tensor1d(Array.from({ length: half }, (_, l) => (l === 0 || (w % 2 === 0 && l === half - 1) ? 1 : 2)));
        return tf.sum(tf.mul(p, tf.reshape(weights, [1, 1, half, 1]))).dataSync()[0];
      });
      expect(energy).toBeCloseTo(data.reduce((s, v) => s + v * v, 0), 2);
      expect(Math.max(...irfft2d(ortho, basis, 'ortho').dataSync().map((v, i) => Math.abs(v - data[i])))).toBeLessThan(1e-5);
      tf.dispose([x, spec.re, spec.im, ortho.re, ortho.im]);
      releaseDftBasis(basis);
    });
  }

  it('differentiates: gradients agree with finite differences', () => {
    const [h, w] = [5, 4];
    const basis = acquireDftBasis(h, w);
    const data = randomImages(1, h, w, 1, 7);
    const weights = tf.tensor4d(randomImages(1, h, 3, 1, 8), [1, h, 3, 1]);
    // A nonlinear loss through both transforms: weighted spectral power of a filtered image.
    const loss = (x: tf.Tensor): tf.Scalar =>
      tf.tidy(() => {
        const s = rfft2d(x as tf.Tensor4D, basis);
        const y = irfft2d({ re: tf.mul(s.re, weights) as tf.Tensor4D, im: s.im }, basis);
        const t = rfft2d(tf.square(y) as tf.Tensor4D, basis);
        return tf.sum(tf.add(tf.square(t.re), tf.square(t.im))) as tf.Scalar;
      });
    const x = tf.tensor4d(data, [1, h, w, 1]);
    const g = tf.grad(loss)(x);
    const analytic = g.dataSync();
    const eps = 1e-2;
    for (let i = 0; i < data.length; i++) {
      const at = (d: number) => {
        const p = Float32Array.from(data);
        p[i] += d;
        const t = tf.tensor4d(p, [1, h, w, 1]);
        const v = loss(t).dataSync()[0];
        t.dispose();
        return v;
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      expect(Math.abs(numeric - analytic[i])).toBeLessThan(2e-2 * Math.max(1, Math.abs(analytic[i])));
    }
    tf.dispose([x, g, weights]);
    releaseDftBasis(basis);
  });

  it('shares one basis per size and frees it with the last user', () => {
    const before = tf.memory().numTensors;
    const a = acquireDftBasis(9, 9);
    const b = acquireDftBasis(9, 9);
    expect(a).toBe(b);
    const held = tf.memory().numTensors;
    releaseDftBasis(a);
    expect(tf.memory().numTensors).toBe(held);
    releaseDftBasis(b);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => releaseDftBasis(b)).toThrow(/not held/);
    expect(() => acquireDftBasis(0, 3)).toThrow(/positive integers/);
  });

  it('gives |f| in cycles per pixel and per image', () => {
    const f = frequencyMagnitudes(6, 5, 'cycles-per-pixel');
    expect(f.length).toBe(6 * 3);
    expect(f[0]).toBe(0);
    expect(f[1]).toBeCloseTo(1 / 5, 6); // (k=0, l=1)
    expect(f[5 * 3 + 0]).toBeCloseTo(1 / 6, 6); // k = 5 is the frequency -1/6
    expect(f[3 * 3 + 2]).toBeCloseTo(Math.hypot(0.5, 0.4), 6);
    const g = frequencyMagnitudes(8, 8, 'cycles-per-image');
    expect(g[1 * 5 + 1]).toBeCloseTo(Math.SQRT2, 5);
  });
});

describe('stationary plane filters', () => {
  beforeAll(async () => {
    await initBackend();
  });

  // Sizes on both sides of DENSE_FILTER_MAX_PIXELS, odd and even, square and not.
  for (const [h, w] of [[26, 26], [9, 12], [7, 5], [40, 34]] as [number, number][]) {
    it(`as one dense matrix and as the transform pair give the same images, ${h} x ${w}`, async () => {
      // A gain that depends on |f| only (even in frequency), as the prior's and the preconditioner's.
      const gain = frequencyMagnitudes(h, w, 'cycles-per-image').map((f) => 1 / (0.5 + f));
      const dense = planeFilter(h, w, gain, true);
      const spectral = planeFilter(h, w, gain, false);
      const x = tf.tensor4d(randomImages(3, h, w, 2, h * w), [3, h, w, 2]);
      const [a, b] = await Promise.all([dense.apply(x).data(), spectral.apply(x).data()]);
      let err = 0;
      let scale = 0;
      a.forEach((v, i) => {
        err = Math.max(err, Math.abs(v - b[i]));
        scale = Math.max(scale, Math.abs(b[i]));
      });
      expect(err / scale).toBeLessThan(1e-5);
      // The filter is symmetric: <F x, y> = <x, F y>, so its own output is its gradient's direction.
      const y = tf.tensor4d(randomImages(3, h, w, 2, 7), [3, h, w, 2]);
      const [fxy, xfy] = await Promise.all([tf.sum(tf.mul(dense.apply(x), y)).data(), tf.sum(tf.mul(x, dense.apply(y))).data()]);
      expect(Math.abs(fxy[0] - xfy[0]) / Math.abs(fxy[0])).toBeLessThan(1e-4);
      dense.dispose();
      spectral.dispose();
      tf.dispose([x, y]);
    });
  }
});

describe('the same transforms on the other tfjs backends', () => {
  const require = createRequire(import.meta.url);
  let original = '';
  beforeAll(async () => {
    await initBackend();
    original = tf.getBackend();
    const wasm = require('@tensorflow/tfjs-backend-wasm');
    const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    wasm.setWasmPaths(dist + path.sep);
  });
  afterAll(async () => {
    await tf.setBackend(original);
  });

  for (const name of ['cpu', 'wasm']) {
    it(`${name}: forward, inverse and gradient`, async () => {
      expect(await tf.setBackend(name)).toBe(true);
      const [h, w] = [5, 6];
      const data = randomImages(1, h, w, 2, 3);
      const basis = acquireDftBasis(h, w);
      const x = tf.tensor4d(data, [1, h, w, 2]);
      const s = rfft2d(x, basis);
      const ref = directDft(plane(data, 0, h, w, 2, 1), h, w);
      const re = s.re.dataSync();
      expect(re[(2 * 4 + 3) * 2 + 1]).toBeCloseTo(ref.re[2 * w + 3], 4);
      const back = irfft2d(s, basis).dataSync();
      expect(Math.max(...back.map((v, i) => Math.abs(v - data[i])))).toBeLessThan(1e-5);
      // d/dx of sum(Re X[0,0]) is 1 everywhere: the DC term is the plain sum.
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.slice(rfft2d(t as tf.Tensor4D, basis).re, [0, 0, 0, 0], [1, 1, 1, 2])))(x);
      expect(Array.from(g.dataSync()).every((v) => Math.abs(v - 1) < 1e-5)).toBe(true);
      tf.dispose([x, s.re, s.im, g]);
      releaseDftBasis(basis);
    });
  }
});
