// Translation invariance (METHODS §10): the TI formula against its plain definition, the sweep
// and profiles on constructed responses, and TI of ground-truth units seeing rendered shapes.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/main/engine/backend';
import { createCellModel } from '../../../src/main/engine/models/ground-truth';
import { shippedShapes } from '../../../src/main/engine/shape-data';
import { mulberry32 } from '../../../src/shared/math/random';
import { STANDARD_SET_INDICES, renderStimuli, setReach, setScale } from '../../../src/shared/math/shapes';
import {
  insideRf,
  positionCorrelationProfile,
  positionSweep,
  rfProfile,
  translationInvariance,
  type SweepResponses,
} from '../../../src/shared/math/translation';

/** TI by its definition: the double sum over pairs of positions of centred response vectors. */
function tiByPairs(r: SweepResponses, unit: number, keep: boolean[]): number {
  const { positions: K, stimuli: S, units: U } = r;
  const vec = (k: number) => {
    const v = Array.from({ length: S }, (_, s) => r.data[(k * S + s) * U + unit]);
    const m = v.reduce((a, b) => a + b, 0) / S;
    return v.map((x) => x - m);
  };
  let num = 0;
  let den = 0;
  for (let k = 0; k < K; k++) {
    for (let l = k + 1; l < K; l++) {
      if (!keep[k] || !keep[l]) continue;
      const a = vec(k);
      const b = vec(l);
      num += a.reduce((acc, x, s) => acc + x * b[s], 0);
      den += Math.hypot(...a) * Math.hypot(...b);
    }
  }
  return num / den;
}

function randomSweep(K: number, S: number, U: number, seed: number): SweepResponses {
  const rand = mulberry32(seed);
  return { data: Float64Array.from({ length: K * S * U }, () => rand() * 4 - 1), positions: K, stimuli: S, units: U };
}

describe('translation invariance index', () => {
  it('the O(K S) formula equals the plain double sum over pairs of positions', () => {
    const r = randomSweep(9, 30, 4, 1);
    // Units share more or less of one tuning across positions, so their TIs differ.
    const common = randomSweep(1, 30, 4, 2).data;
    const weight = [0, 0.5, 1.5, 4];
    const data = Float64Array.from(r.data, (v, i) => v + weight[i % 4] * common[i % (30 * 4)]);
    const sweep = { ...r, data };
    const keep = [false, true, true, true, true, true, true, true, false];
    const fast = translationInvariance(sweep, keep);
    for (let u = 0; u < 4; u++) expect(fast[u]).toBeCloseTo(tiByPairs(sweep, u, keep), 12);
    const all = translationInvariance(sweep);
    for (let u = 0; u < 4; u++) expect(all[u]).toBeCloseTo(tiByPairs(sweep, u, new Array(9).fill(true)), 12);
    expect(Math.max(...fast) - Math.min(...fast)).toBeGreaterThan(0.5); // units differ: the check is not vacuous
  });

  it('same selectivity at every position (any gain) gives 1; independent selectivity gives about 0', () => {
    const K = 7, S = 50;
    const rand = mulberry32(4);
    const tuning = Array.from({ length: S }, () => rand());
    const gains = [0.2, 0.5, 1, 2, 1, 0.5, 0.1];
    const same: SweepResponses = { data: gains.flatMap((g) => tuning.map((t) => g * t + 3)), positions: K, stimuli: S, units: 1 };
    expect(translationInvariance(same)[0]).toBeCloseTo(1, 12);
    const independent = randomSweep(K, 2000, 1, 5);
    expect(Math.abs(translationInvariance(independent)[0])).toBeLessThan(0.05);
    expect(translationInvariance(same, [true, false, false, false, false, false, false])[0]).toBeNaN();
  });

  it('RF profile and position-correlation profile of a unit whose tuning flips sign across the RF', () => {
    const S = 20;
    const rand = mulberry32(6);
    const tuning = Array.from({ length: S }, () => rand() - 0.5);
    const gains = [-1, -0.5, 0.25, 1, 0.5];
    const blank = 2;
    const r: SweepResponses = { data: gains.flatMap((g) => tuning.map((t) => blank + g * t)), positions: 5, stimuli: S, units: 1 };
    const profile = Array.from(rfProfile(r, [blank]));
    gains.forEach((g, k) => expect(profile[k]).toBeCloseTo(Math.abs(g), 12));
    const corr = Array.from(positionCorrelationProfile(r, 3));
    gains.forEach((g, k) => expect(corr[k]).toBeCloseTo(Math.sign(g), 12));
  });

  it('sweeps: horizontal, vertical and 2-D through the centre at the chosen step; RF containment', () => {
    const centre = { x: 20, y: 30.5 };
    const h = positionSweep({ centre, step: 2, halfSpan: 7, direction: 'horizontal' });
    expect(h.map((p) => p.dx)).toEqual([-6, -4, -2, 0, 2, 4, 6]);
    expect(new Set(h.map((p) => p.y))).toEqual(new Set([30.5]));
    const v = positionSweep({ centre, step: 3, halfSpan: 6, direction: 'vertical' });
    expect(v.map((p) => p.y)).toEqual([24.5, 27.5, 30.5, 33.5, 36.5]);
    const grid = positionSweep({ centre, step: 2, halfSpan: 4, direction: '2d' });
    expect(grid).toHaveLength(25);
    expect(grid[12]).toEqual({ x: 20, y: 30.5, dx: 0, dy: 0 });
    const reach = { left: 3, right: 5, up: 2, down: 2 };
    // RF of side 16 at the centre: x from 12 to 28, so x - 3 >= 12 and x + 5 <= 28.
    expect(insideRf(h, reach, centre, 16)).toEqual(h.map((p) => p.x >= 15 && p.x <= 23));
    expect(() => positionSweep({ centre, step: 0, halfSpan: 4, direction: '2d' })).toThrow(/step/);
  });
});

describe('TI of ground-truth units seeing the shape set', () => {
  beforeAll(async () => {
    await initBackend();
  });

  /**
   * TI of two units of a cell model (RF 24 px, valid convolution, so its response map holds
   * the same detector at every position): the sum of the map, and the map's centre. Shapes of
   * 12 px on an image large enough that every detector that sees a shape anywhere in the sweep
   * lies inside the image; positions kept where the shapes lie inside the centre unit's RF.
   */
  function sweepTi(kind: Parameters<typeof createCellModel>[0]): { summed: number; centre: number } {
    const model = createCellModel(kind);
    const shapes = shippedShapes();
    const side = 88;
    const centre = { x: (side - 1) / 2, y: (side - 1) / 2 };
    const sizePx = 12;
    const positions = positionSweep({ centre, step: 2, halfSpan: 6, direction: 'horizontal' });
    const keep = insideRf(positions, setReach(shapes, setScale(shapes, sizePx)), centre, 24);
    expect(keep.filter(Boolean).length).toBeGreaterThanOrEqual(3);
    const S = STANDARD_SET_INDICES.length;
    const sums = new Float64Array(positions.length * S);
    const centreUnit = new Float64Array(positions.length * S);
    positions.forEach((p, k) => {
      const grey = renderStimuli(shapes, { sizePx, width: side, height: side, x: p.x, y: p.y, intensity: 255, background: 0, antialias: false });
      const [sum, mid] = tf.tidy(() => {
        const pixels = tf.tile(tf.reshape(tf.tensor(grey), [S, side, side, 1]), [1, 1, 1, 3]) as tf.Tensor4D;
        const map = model.forward(pixels, ['response']).response; // [S, 65, 65, 1]
        const c = (map.shape[1]! - 1) / 2;
        return [tf.sum(map, [1, 2, 3]).dataSync(), tf.slice(map, [0, c, c, 0], [S, 1, 1, 1]).dataSync()];
      });
      sums.set(sum, k * S);
      centreUnit.set(mid, k * S);
    });
    model.dispose();
    const sweep = (data: Float64Array): SweepResponses => ({ data, positions: positions.length, stimuli: S, units: 1 });
    return { summed: translationInvariance(sweep(sums), keep)[0], centre: translationInvariance(sweep(centreUnit), keep)[0] };
  }

  it('a sum of the same shape detector over positions gives TI near 1; the detector at one place a low TI', () => {
    const simple = sweepTi('simple-cell');
    expect(simple.summed).toBeGreaterThan(0.999);
    expect(simple.centre).toBeLessThan(0.2);
    // Pooling phases (Hubel & Wiesel complex cell) buys tolerance to small shifts.
    const complex = sweepTi('complex-cell');
    expect(complex.summed).toBeGreaterThan(0.999);
    expect(complex.centre).toBeGreaterThan(simple.centre + 0.4);
  });
});
