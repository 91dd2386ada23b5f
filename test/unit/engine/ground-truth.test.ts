import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/main/engine/backend';
import { createCellModel } from '../../../src/main/engine/models/ground-truth';
import { gabor } from '../../../src/shared/math/gabor';

/**
 * A 24 x 24 grey grating patch of the given phase at constant contrast: the combination
 * cos(p) g0 + sin(p) g90 of the unit-norm quadrature pair, as RGB 0..255 pixels.
 */
function gaborImage(phase: number, contrast = 300): tf.Tensor4D {
  const g0 = gabor({ size: 24, thetaDeg: 0, cyclesPerPixel: 0.125, sigma: 4, phase: 0 });
  const g90 = gabor({ size: 24, thetaDeg: 0, cyclesPerPixel: 0.125, sigma: 4, phase: 90 });
  const c = Math.cos((phase * Math.PI) / 180);
  const s = Math.sin((phase * Math.PI) / 180);
  const px = new Float32Array(24 * 24 * 3);
  g0.forEach((v, i) => px.fill(127.5 + contrast * (c * v + s * g90[i]), i * 3, i * 3 + 3));
  return tf.tensor4d(px, [1, 24, 24, 3]);
}

function response(kind: Parameters<typeof createCellModel>[0], img: tf.Tensor4D): number {
  const m = createCellModel(kind);
  const r = tf.tidy(() => m.forward(img, ['response']).response.dataSync()[0]);
  m.dispose();
  return r;
}

describe('ground-truth cell models', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('energy model is exactly phase invariant, the simple cell is not', () => {
    const phases = [0, 45, 90, 135, 180, 270];
    const energy = phases.map((p) => response('energy', gaborImage(p)));
    const simple = phases.map((p) => response('simple-cell', gaborImage(p)));
    for (const e of energy) expect(Math.abs(e / energy[0] - 1)).toBeLessThan(1e-4);
    expect(simple[0]).toBeGreaterThan(0);
    expect(simple[4]).toBe(0); // anti-phase: rectified away
  });

  it('Hubel & Wiesel complex cell stays above 80 % of its maximum at every phase', () => {
    const r = Array.from({ length: 36 }, (_, k) => response('complex-cell', gaborImage(k * 10)));
    const max = Math.max(...r);
    expect(Math.min(...r) / max).toBeGreaterThan(0.8);
    expect(Math.min(...r) / max).toBeLessThan(0.999); // only approximately invariant
  });

  it('a larger input gives the responses of every RF-sized crop (valid convolution)', () => {
    const m = createCellModel('simple-cell');
    const out = tf.tidy(() => m.forward(tf.randomUniform([2, 30, 30, 3], 0, 255) as tf.Tensor4D, ['response']).response);
    expect(out.shape).toEqual([2, 7, 7, 1]);
    out.dispose();
    m.dispose();
  });

  it('frees every intermediate: the live tensor count is unchanged after many gradient steps', () => {
    const m = createCellModel('complex-cell');
    const x = tf.variable(tf.randomUniform([1, 24, 24, 3], 0, 255) as tf.Tensor4D);
    const grad = tf.grad((img: tf.Tensor) => tf.sum(m.forward(img as tf.Tensor4D, ['response', 'subunits']).response) as tf.Scalar);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 500; i++) tf.tidy(() => x.assign(tf.add(x, tf.mul(grad(x), 1e-3)) as tf.Tensor4D));
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    m.dispose();
  });
});
