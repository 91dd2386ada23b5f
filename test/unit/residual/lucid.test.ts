// Pieces of the Lucid-style visualization (METHODS §6) and the zoom S (§7): the Fourier
// parameterization's start against its Parseval closed form, the colour matrix, the transform
// stack's sizes, resampling against tfjs's own bilinear resize and exact rotations, and gradients
// through render + transforms on every backend.
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { featureVisSettings, transformSettings, transformsFor } from '../../../src/shared/analyses/feature-vis';
import { initBackend } from '../../../src/main/engine/backend';
import { frequencyMagnitudes } from '../../../src/main/engine/fourier';
import { colorDecorrelation, FourierImages, spectrumScale } from '../../../src/main/engine/fv/fourier-image';
import { resize, rotate, zoomCentre } from '../../../src/main/engine/fv/resample';
import { applyTransforms, transformStack } from '../../../src/main/engine/fv/transforms';

/** Lucid's standard transforms: the feature-visualization settings' defaults. */
const LUCID_DEFAULTS = transformSettings.parse({});

beforeAll(async () => {
  await initBackend();
});

describe('Fourier parameterization', () => {
  it('starts as N(0, 0.01) coefficients and pixels of the variance Parseval predicts', () => {
    const [h, w, n] = [32, 24, 24];
    const images = new FourierImages({ seeds: Array.from({ length: n }, (_, i) => 100 + i), height: h, width: w });
    const v = Array.from(images.variable.dataSync());
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
    expect(Math.abs(mean)).toBeLessThan(0.0005);
    expect(std).toBeCloseTo(0.01, 3);
    // Each pixel is (1/4)(1/sqrt(HW)) sum over the full spectrum of s_k X_k e^{i theta}. An entry
    // of a middle column stands for a conjugate pair: 2 s (a cos - b sin) adds 4 s^2 sigma^2 / HW
    // to the variance. Columns 0 and W/2 are their own mirrors: the real part of their column
    // transform is kept, s (a cos - b sin), which adds s^2 sigma^2 / HW.
    const f = frequencyMagnitudes(h, w, 'cycles-per-pixel');
    const half = w / 2 + 1;
    let sum = 0;
    for (let k = 0; k < h; k++) {
      for (let l = 0; l < half; l++) {
        const s = 1 / Math.max(f[k * half + l], 1 / Math.max(h, w));
        sum += l === 0 || l === w / 2 ? s * s : 4 * s * s;
      }
    }
    const predicted = (0.01 ** 2 * sum) / (16 * h * w);
    const x = images.linearImages();
    const px = Array.from(x.dataSync());
    const measured = px.reduce((a, b) => a + b * b, 0) / px.length;
    expect(measured / predicted).toBeGreaterThan(0.9);
    expect(measured / predicted).toBeLessThan(1.1);
    // The sigmoid of such small values keeps the start close to grey.
    const rgb = images.render();
    const r = rgb.dataSync();
    expect(Math.min(...r)).toBeGreaterThan(100);
    expect(Math.max(...r)).toBeLessThan(155);
    tf.dispose([x, rgb]);
    images.dispose();
  });

  it('scales each frequency by 1 / max(|f|, 1 / max(H, W)) and normalizes the colour matrix by its largest column', () => {
    const s = spectrumScale(8, 16);
    expect(s[0]).toBe(16); // DC: the floor 1/16
    expect(s[1]).toBeCloseTo(16, 4); // l = 1: |f| = 1/16
    expect(s[2]).toBeCloseTo(8, 4);
    expect(s[1 * 9]).toBeCloseTo(8, 4); // k = 1: |f| = 1/8
    const c = colorDecorrelation();
    const colNorms = [0, 1, 2].map((j) => Math.hypot(c[j], c[3 + j], c[6 + j]));
    expect(Math.max(...colNorms)).toBeCloseTo(1, 6);
    expect(c[0] / c[1]).toBeCloseTo(0.26 / 0.09, 5);
  });
});

describe('resampling and the zoom S', () => {
  it('resizes like tfjs resizeBilinear with half-pixel centres', () => {
    const x = tf.randomUniform([2, 9, 7, 3], 0, 255, 'float32', 4) as tf.Tensor4D;
    for (const [h, w] of [
      [18, 14],
      [13, 11],
    ]) {
      const ours = resize(x, h, w);
      const ref = tf.image.resizeBilinear(x, [h, w], false, true);
      expect(tf.max(tf.abs(tf.sub(ours, ref))).dataSync()[0]).toBeLessThan(1e-3);
      tf.dispose([ours, ref]);
    }
    x.dispose();
  });

  it('zooms a linear ramp into the closed form: centre half, twice as slow', () => {
    const side = 32;
    const data = new Float32Array(side * side * 3);
    for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) data.set([2 * y + 10, 3 * x, 5 * y - x], (y * side + x) * 3);
    const z = zoomCentre(tf.tensor4d(data, [1, side, side, 3])).arraySync()[0];
    // Output pixel u shows source 8 + (u + 0.5) / 2 - 0.5 of the central 16 px (kept inside it).
    const src = (u: number) => 8 + Math.min(Math.max((u + 0.5) / 2 - 0.5, 0), 15);
    for (const [u, v] of [
      [0, 0],
      [5, 17],
      [16, 16],
      [31, 2],
    ]) {
      expect(z[u][v][0]).toBeCloseTo(2 * src(u) + 10, 3);
      expect(z[u][v][1]).toBeCloseTo(3 * src(v), 3);
      expect(z[u][v][2]).toBeCloseTo(5 * src(u) - src(v), 3);
    }
  });

  it('has a gradient that is the adjoint of the resampling (dot-product test)', () => {
    const x = tf.randomNormal([2, 11, 9, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    for (const op of [(t: tf.Tensor4D) => rotate(t, 17), (t: tf.Tensor4D) => resize(t, 7, 13)]) {
      const y = op(x);
      const r = tf.randomNormal(y.shape, 0, 1, 'float32', 6);
      // <r, A x> = <A^T r, x>, and the gradient of <r, A x> with respect to x is A^T r.
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(op(t as tf.Tensor4D), r)))(x);
      const lhs = tf.sum(tf.mul(r, y)).dataSync()[0];
      const rhs = tf.sum(tf.mul(g, x)).dataSync()[0];
      expect(Math.abs(lhs - rhs)).toBeLessThan(1e-3 * Math.max(1, Math.abs(lhs)));
      tf.dispose([y, r, g]);
    }
    x.dispose();
  });

  it('rotates by 90 degrees exactly and by 0 not at all', () => {
    const x = tf.randomUniform([1, 7, 7, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const r90 = rotate(x, 90);
    // Clockwise on screen: out[y][x] = in[6 - x][y].
    const ref = tf.transpose(tf.reverse(x, 1), [0, 2, 1, 3]);
    expect(tf.max(tf.abs(tf.sub(r90, ref))).dataSync()[0]).toBeLessThan(1e-5);
    const r0 = rotate(x, 0);
    expect(tf.max(tf.abs(tf.sub(r0, x))).dataSync()[0]).toBeLessThan(1e-6);
    tf.dispose([x, r90, ref, r0]);
  });
});

describe('transform stack', () => {
  it('produces the sizes of pad 12, jitter 8, each scale, jitter 4', () => {
    const x = tf.fill([2, 128, 128, 3], 100) as tf.Tensor4D;
    const stack = transformStack(LUCID_DEFAULTS);
    for (const [k, scale] of LUCID_DEFAULTS.scales.entries()) {
      // A generator that picks scale k and rotation 0 (index 21 of the 26 angles is a 0).
      const picks = [0.5, 0.5, (k + 0.5) / 11, 21.5 / 26, 0.5, 0.5];
      let i = 0;
      const out = applyTransforms(stack, x, () => picks[i++ % picks.length]);
      const side = Math.round(144 * scale) - 4;
      expect(out.shape).toEqual([2, side, side, 3]);
      out.dispose();
    }
    x.dispose();
  });

  it('takes per-layer overrides over the run-wide stack', () => {
    const s = featureVisSettings.parse({ layerTransforms: { early: { jitter: 0, jitterFine: 0 }, deep: { jitter: 16 } } });
    expect(s.transforms).toMatchObject({ pad: 12, padValue: 0.5, jitter: 8, jitterFine: 4 });
    expect(s.transforms.rotations.filter((a) => a === 0)).toHaveLength(6);
    expect(transformsFor(s, 'early')).toMatchObject({ jitter: 0, jitterFine: 0, pad: 12 });
    expect(transformsFor(s, 'other', 'deep')).toMatchObject({ jitter: 16, jitterFine: 4 });
    expect(s).toMatchObject({ steps: 512, learningRate: 0.05, size: 128 });
  });
});

describe('gradients through render and transforms on every backend', () => {
  const require = createRequire(import.meta.url);
  let original = '';
  beforeAll(() => {
    original = tf.getBackend();
    const wasm = require('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + path.sep);
  });
  afterAll(async () => {
    await tf.setBackend(original);
  });

  for (const name of ['tensorflow', 'cpu', 'wasm']) {
    it(name, async () => {
      expect(await tf.setBackend(name)).toBe(true);
      const images = new FourierImages({ seeds: [1, 2], height: 24, width: 24 });
      let i = 0;
      const rand = () => [0.3, 0.7, 0.9, 0.1, 0.6, 0.2][i++ % 6];
      const stack = transformStack({ ...LUCID_DEFAULTS, pad: 4, jitter: 2, jitterFine: 1 });
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(applyTransforms(stack, images.render(), rand))) as tf.Scalar, [images.variable]);
      const g = grads[images.variable.name].dataSync();
      expect(Number.isFinite(value.dataSync()[0])).toBe(true);
      expect(g.every(Number.isFinite)).toBe(true);
      expect(g.some((v) => v !== 0)).toBe(true);
      tf.dispose([value, ...Object.values(grads)]);
      images.dispose();
    });
  }
});
