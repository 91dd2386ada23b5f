// The diverse views' reading of stored results: unit summaries apart from per-lambda results,
// images split into lambda* templates and texture, controls grouped, histograms that count.
import { describe, expect, it } from 'vitest';
import type { ResultRecord } from '../../../src/shared/domain';
import { controlGroups, diverseUnits, histogram, lambdaResults, phaseHistogram, sharedRange, withModelControls } from '../../../src/shared/analyses/diverse-results';

const record = (id: number, key: string, data: Record<string, unknown>, imageIds: number[] = []): ResultRecord => ({ id, runId: 1, key, data, imageIds });

const unitData = (channel: number, extra: Record<string, unknown> = {}) => ({
  layer: 'relu3_1',
  channel,
  modelId: 'vgg',
  complete: true,
  lambdas: [0, 0.1],
  activation: [2, 1.5],
  distance: [10, 20],
  normalizedActivation: [1, 0.75],
  normalizedDistance: [1, 2],
  tau: 0.9,
  threshold: 1.8,
  lambdaStar: 0,
  lambdaStarIndex: 0,
  diversityRatio: 1,
  randomWeightsSeed: null,
  ...extra,
});

describe('diverse results', () => {
  const results = [
    record(1, 'unit/relu3_1/3/lambda/1', { lambdaIndex: 1, lambda: 0.1, activation: 1.5, distance: 20, steps: 7 }, [21, 22]),
    record(2, 'unit/relu3_1/3/lambda/0', { lambdaIndex: 0, lambda: 0, activation: 2, distance: 10, steps: 9 }, [11, 12]),
    record(3, 'unit/relu3_1/3', unitData(3, { shiftInvariance: 0.5, linearCombination: 0.9 }), [11, 12, 99]),
    record(4, 'unit/relu3_1/1', unitData(1), [31, 32]),
    record(5, 'summary', { columns: [], table: [] }),
  ];

  it('reads unit summaries only, in channel order, with the texture apart from the templates', () => {
    const units = diverseUnits({ id: 1, modelId: 'vgg' }, results);
    expect(units.map((u) => u.channel)).toEqual([1, 3]);
    expect(units[1]).toMatchObject({ shiftInvariance: 0.5, linearCombination: 0.9, starImageIds: [11, 12], textureImageId: 99 });
    expect(units[0]).toMatchObject({ shiftInvariance: null, starImageIds: [31, 32], textureImageId: null });
  });

  it('orders a unit\'s lambdas by sweep index with their images', () => {
    const l = lambdaResults(results, 'relu3_1', 3);
    expect(l.map((x) => [x.lambda, x.steps, x.imageIds])).toEqual([
      [0, 9, [11, 12]],
      [0.1, 7, [21, 22]],
    ]);
    expect(lambdaResults(results, 'relu3_1', 1)).toEqual([]);
  });

  it('groups trained units against their random-weights control of the same model and layer', () => {
    const trained = diverseUnits({ id: 1, modelId: 'vgg' }, [record(1, 'unit/relu3_1/0', unitData(0))]);
    const random = diverseUnits({ id: 2, modelId: 'vgg' }, [record(2, 'unit/relu3_1/0', unitData(0, { randomWeightsSeed: 7 }))]);
    const other = diverseUnits({ id: 3, modelId: 'resnet' }, [record(3, 'unit/relu3_1/0', unitData(0, { modelId: 'resnet' }))]);
    const g = controlGroups([...trained, ...random, ...other], 'vgg', 'relu3_1');
    expect(g.trained.map((u) => u.runId)).toEqual([1]);
    expect(g.random.map((u) => u.runId)).toEqual([2]);
  });

  it('counts every finite value once, extremes and out-of-range values in the end bins', () => {
    const h = histogram([0, 0.1, 0.5, 1, 2, -1, null, Number.NaN], 0, 1, 4);
    expect(h.counts).toEqual([3, 0, 1, 2]);
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(6);
    expect(h.edges).toEqual([0, 0.25, 0.5, 0.75]);
    expect(() => histogram([], 1, 1, 3)).toThrow(/hi > lo/);
  });

  it('bins phases on the circle in 30 degree steps', () => {
    const h = phaseHistogram([0, 29, 30, 359, -10, 370]);
    expect(h.counts[0]).toBe(3); // 0, 29, 370 = 10
    expect(h.counts[1]).toBe(1);
    expect(h.counts[11]).toBe(2); // 359, -10 = 350
  });

  it('spans the values of all sets with the extremes inside', () => {
    const [lo, hi] = sharedRange([[1.1, 1.3], [null, 1.05]]);
    expect(lo).toBeLessThan(1.05);
    expect(hi).toBeGreaterThan(1.3);
    expect(hi - lo).toBeLessThan(0.5);
    expect(sharedRange([[null]])).toEqual([0, 1]);
  });
});

describe('randomized project models as controls', () => {
  it('counts a models.randomize copy\'s units as the random-weights control of the trained model', () => {
    const models = [
      { id: 'vgg', source: '/m/vgg.onnx' },
      { id: 'vgg-rand4', source: '/m/vgg.onnx', randomWeightsSeed: 4 },
      { id: 'other', source: '/m/other.onnx' },
    ];
    const units = [
      ...diverseUnits({ id: 1, modelId: 'vgg' }, [record(1, 'unit/relu3_1/0', unitData(0))]),
      ...diverseUnits({ id: 2, modelId: 'vgg-rand4' }, [record(2, 'unit/relu3_1/0', unitData(0, { modelId: 'vgg-rand4' }))]),
      ...diverseUnits({ id: 3, modelId: 'other' }, [record(3, 'unit/relu3_1/0', unitData(0, { modelId: 'other' }))]),
    ];
    const g = controlGroups(withModelControls(units, models), 'vgg', 'relu3_1');
    expect(g.trained.map((u) => u.runId)).toEqual([1]);
    expect(g.random.map((u) => [u.runId, u.randomWeightsSeed])).toEqual([[2, 4]]);
    expect(controlGroups(withModelControls(units, models), 'other', 'relu3_1').random).toEqual([]);
  });
});
