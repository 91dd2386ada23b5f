// The diverse-visualization run on the built-in cell models, whose answers are known (METHODS §3).
// To keep CI fast the lambda sweeps are shortened where the assertion allows; each test says how.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/main/engine/backend';
import type { ImageOut, RunContext } from '../../../src/main/engine/analysis';
import { diverse } from '../../../src/main/engine/analyses/diverse';
import { createCellModel } from '../../../src/main/engine/models/ground-truth';
import { diverseSettings } from '../../../src/shared/analyses/diverse';
import type { CellKind } from '../../../src/shared/builtin-models';
import { largestCircularGap, largestClusterWithin } from '../../../src/shared/math/diverse';

interface Recorded {
  results: Map<string, { data: Record<string, unknown>; images: ImageOut[] }>;
  checkpoints: unknown[];
}

async function run(settings: Record<string, unknown>, opts: { resumeFrom?: unknown; cancelAfterCheckpoints?: number } = {}): Promise<Recorded> {
  const rec: Recorded = { results: new Map(), checkpoints: [] };
  const ctx: RunContext = {
    runId: 1,
    seed: 7,
    cancelled: () => opts.cancelAfterCheckpoints !== undefined && rec.checkpoints.length >= opts.cancelAfterCheckpoints,
    progress: () => {},
    emitResult: (key, data, images = []) => void rec.results.set(key, { data, images }),
    checkpoint: (state) => void rec.checkpoints.push(JSON.parse(JSON.stringify(state))),
    resumeFrom: opts.resumeFrom ?? null,
    loadModel: async (id) => createCellModel(id.replace('builtin:', '') as CellKind),
    log: () => {},
  };
  await diverse.run(diverseSettings.parse(settings), ctx);
  return rec;
}

interface UnitSummary {
  lambdas: number[];
  activation: number[];
  distance: number[];
  lambdaStar: number;
  lambdaStarIndex: number;
  phasesDeg?: number[][];
  phasesAtStar?: number[];
  shiftInvariance?: number;
  linearCombination?: number;
  diversityRatio: number | null;
  diversityRatioRaw: number | null;
  diversityFloor: number | null;
  noiseDistance: number;
  lowestActivation: number[];
  weakImagesAtStar: number | null;
  complete: boolean;
}

function unit(rec: Recorded, layer = 'response', channel = 0): UnitSummary {
  const r = rec.results.get(`unit/${layer}/${channel}`);
  if (!r) throw new Error(`no result unit/${layer}/${channel}; have ${[...rec.results.keys()].join(', ')}`);
  return r.data as unknown as UnitSummary;
}

/** The first lambda at which the mean activation is below 80 % of a(0); Infinity if none. */
function firstBelow80(u: UnitSummary): number {
  const i = u.activation.findIndex((a) => a < 0.8 * u.activation[0]);
  return i < 0 ? Infinity : u.lambdas[i];
}

// Every second doubling of the METHODS sweep: enough to see where each curve crosses 80 %.
const SHORT_SWEEP = [0, 0.32, 1.28, 5.12, 20.48];
/** LC of templates that all coincide is 1 up to float32 rounding of the pair averages' rescaling. */
const LC_TOLERANCE = 0.01;

describe('diverse visualization of the Hubel & Wiesel complex cell and the simple cell', () => {
  let complex: UnitSummary;
  let simple: UnitSummary;

  beforeAll(async () => {
    await initBackend();
    // With the indices (LC is asserted below); texture crops at stride 6 keep the SI texture cheap.
    complex = unit(await run({ modelId: 'builtin:complex-cell', lambdas: SHORT_SWEEP, textureCropStride: 6 }));
    simple = unit(await run({ modelId: 'builtin:simple-cell', lambdas: SHORT_SWEEP, textureCropStride: 6 }));
  });

  it('at lambda = 0 most images share one phase (at least 4 of 6 within 30 degrees)', () => {
    expect(complex.phasesDeg![0]).toHaveLength(6);
    expect(largestClusterWithin(complex.phasesDeg![0], 30)).toBeGreaterThanOrEqual(4);
  });

  // The min-distance term has a second optimum for 6 points in the cell's quadrature plane: 5 on
  // the circle and 1 near its centre (the same minimum distance), and then the 5 may leave one gap
  // of up to 120 degrees. Over run seeds 1-7 the largest gap at lambda* was 75-102 degrees (6 of 7
  // below 100); this run's seed is 7 (93 degrees).
  it('at lambda* the phases cover the circle (largest gap below 100 degrees)', () => {
    expect(complex.lambdaStar).toBeGreaterThan(0);
    expect(complex.distance[complex.lambdaStarIndex]).toBeGreaterThan(10 * complex.distance[0]);
    expect(largestCircularGap(complex.phasesAtStar!)).toBeLessThan(100);
  });

  // Issue 15, point 13: with the mean rule alone one image could die at lambda* (mean 2.27 >= 0.8
  // a(0) with five images at a(0) = 2.73 and one at 0: the simple cell at lambda 5.12, the complex
  // cell at 20.48), and the dead template lowered the reference of LC (1.04 to 1.08 on the simple
  // cell). Every image at lambda* now keeps half of a(0).
  it('keeps every image alive at lambda* (at least half of a(0)), so LC stays at or below 1', () => {
    for (const u of [simple, complex]) {
      expect(u.weakImagesAtStar).toBe(0);
      expect(u.lowestActivation[u.lambdaStarIndex]).toBeGreaterThanOrEqual(0.5 * u.activation[0]);
      expect(u.linearCombination).toBeLessThanOrEqual(1 + LC_TOLERANCE);
    }
    // Larger lambdas of this sweep did kill an image: the condition is what moved lambda*.
    expect(simple.lowestActivation.slice(simple.lambdaStarIndex + 1).some((a) => a < 0.5 * simple.activation[0])).toBe(true);
  });

  // Issue 15, point 12: the images collapse at lambda = 0 (D(0) near 1e-6), so the raw ratio
  // measured the optimizer's precision (complex cell 3.6e6, simple cell 828). Both distances are
  // now floored at the noise distance: the ratio is finite and orders the cells.
  it('floors the diversity ratio at the noise distance: finite, complex above simple, raw kept', () => {
    for (const u of [simple, complex]) {
      expect(u.diversityFloor).toBeCloseTo(u.noiseDistance, 10);
      expect(Number.isFinite(u.diversityRatio)).toBe(true);
      expect(u.diversityRatio!).toBeGreaterThanOrEqual(1);
    }
    expect(complex.diversityRatioRaw!).toBeGreaterThan(1e5); // the collapse the floor is for
    expect(complex.diversityRatio!).toBeLessThan(1000);
    expect(complex.diversityRatio!).toBeGreaterThan(5 * simple.diversityRatio!);
  });

  it("the simple cell's activation falls below 80 % at a smaller lambda than the complex cell's", () => {
    expect(firstBelow80(simple)).toBeLessThan(Infinity);
    expect(firstBelow80(simple)).toBeLessThan(firstBelow80(complex));
  });
});

describe('invariance indices on the cell models', () => {
  beforeAll(async () => {
    await initBackend();
  });

  // SI uses the templates at lambda*; a sweep of lambda = 0 alone makes them the maximally
  // activating images (the strictest reference). Crops at stride 2 (144 of the 576).
  it('the energy model is texture-like (SI above 0.8); the single-Gabor simple cell clearly is not', async () => {
    const settings = { lambdas: [0], textureCropStride: 2 };
    const energy = unit(await run({ modelId: 'builtin:energy', ...settings }));
    const simple = unit(await run({ modelId: 'builtin:simple-cell', ...settings }));
    expect(energy.shiftInvariance).toBeGreaterThan(0.8);
    expect(simple.shiftInvariance).toBeLessThan(0.6 * energy.shiftInvariance!);
  });

  // LC needs distinct templates: lambda = 1.28 spreads them (asserted); crops at stride 6 keep
  // the SI texture, which this test does not look at, cheap.
  it('the corner detector keeps its pair averages (LC above 0.8)', async () => {
    const rec = await run({ modelId: 'builtin:corner', lambdas: [0, 1.28], textureCropStride: 6 });
    const corner = unit(rec);
    expect(corner.lambdaStar).toBe(1.28);
    expect(corner.distance[1]).toBeGreaterThan(10 * corner.distance[0]);
    expect(corner.linearCombination).toBeGreaterThan(0.8);
    const images = rec.results.get('unit/response/0')!.images;
    expect(images.filter((i) => i.name.startsWith('lambda-star/'))).toHaveLength(6);
    const texture = images.find((i) => i.name === 'texture')!;
    expect([texture.width, texture.height, texture.rgb.length]).toEqual([47, 47, 47 * 47 * 3]);
  });
});

describe('the run as a job', () => {
  beforeAll(async () => {
    await initBackend();
  });

  const small = { modelId: 'builtin:energy', lambdas: [0, 0.32, 1.28], maxSteps: 60, textureCropStride: 6 };

  it('stores every lambda, resumes after a checkpoint with the same numbers, and frees its tensors', async () => {
    const before = tf.memory().numTensors;
    const whole = await run(small);
    expect(tf.memory().numTensors).toBe(before);
    for (let li = 0; li < 3; li++) {
      const r = whole.results.get(`unit/response/0/lambda/${li}`)!;
      expect(r.images).toHaveLength(6);
      expect(r.images[0].rgb).toHaveLength(24 * 24 * 3);
      expect((r.data.activations as number[]).length).toBe(6);
    }
    const first = await run(small, { cancelAfterCheckpoints: 1 });
    expect(first.results.has('unit/response/0/lambda/1')).toBe(false);
    expect(unit(first).complete).toBe(false);
    const resumed = await run(small, { resumeFrom: first.checkpoints.at(-1) });
    expect(resumed.results.has('unit/response/0/lambda/0')).toBe(false); // not redone
    const a = unit(whole);
    const b = unit(resumed);
    expect(b.complete).toBe(true);
    b.activation.forEach((v, i) => expect(v).toBeCloseTo(a.activation[i], 4));
    expect(b.shiftInvariance).toBeCloseTo(a.shiftInvariance!, 4);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("optimizes units together, each on its own images, with each unit's own result", async () => {
    // Units of the linear subunit layer: each prefers its own Gabor phase.
    const settings = { modelId: 'builtin:complex-cell', layer: 'subunits', lambdas: [0], maxSteps: 300, indices: false };
    const both = await run({ ...settings, units: [0, 4] });
    const alone = await run({ ...settings, units: [4] });
    const p0 = unit(both, 'subunits', 0).phasesDeg![0];
    const p4 = unit(both, 'subunits', 4).phasesDeg![0];
    // Subunit k has phase about 45 k degrees: unit 4 is in anti-phase with unit 0.
    expect(largestClusterWithin(p0, 20)).toBe(6);
    expect(largestClusterWithin(p4, 20)).toBe(6);
    const circularDistance = Math.abs(((((p4[0] - p0[0]) % 360) + 540) % 360) - 180);
    expect(circularDistance).toBeGreaterThan(160);
    expect(unit(alone, 'subunits', 4).activation[0]).toBeCloseTo(unit(both, 'subunits', 4).activation[0], 3);
  });
});
