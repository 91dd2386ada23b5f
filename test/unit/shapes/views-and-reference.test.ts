// What the shape views and the CLI read: result parsing and the statistics the charts plot
// (checked against direct computations), the summary table as text, and the V4 / APC-point
// reference the workbench serves, compared with the original files in ../shared.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableText } from '../../../src/main/cli/table';
import { forkEngine } from '../../../src/main/services/engine-process';
import { Workbench } from '../../../src/main/services/workbench';
import { encodeFloat32 } from '../../../src/shared/float-codec';
import type { ApcPointsReference, V4Reference } from '../../../src/shared/v4-reference';
import { ecdf, layerResult, rankStimuli, sharedHistograms, unitColumn, unitRow } from '../../../src/shared/analyses/shapes-results';
import { median } from '../../../src/shared/math/stats';
import { tempDir } from '../../helpers/temp';

const SHARED = path.resolve(__dirname, '../../../../shared');

describe('shape view statistics', () => {
  it('ecdf: sorted finite values with the fraction at or below each', () => {
    expect(ecdf([0.5, NaN, 0.1, 0.3, 0.3])).toEqual([
      [0.1, 0.25],
      [0.3, 0.5],
      [0.3, 0.75],
      [0.5, 1],
    ]);
    expect(ecdf([NaN])).toEqual([]);
    expect(median([3, NaN, 1, 2, 10])).toBe(2.5);
    expect(median([])).toBeNull();
  });

  it('shared histograms: same bins for every set, each set counted in full, maxima in the last bin', () => {
    const a = Float32Array.from({ length: 1000 }, (_, i) => i / 999); // 0..1
    const b = [2, 2, 2, NaN];
    const h = sharedHistograms([a, b], 10);
    expect(h.centres[0]).toBeCloseTo(0.1, 6); // bins of width 0.2 over 0..2
    expect(h.counts[0].reduce((x, y) => x + y)).toBe(1000);
    expect(h.counts[1]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 3]);
    // Direct count of a's values in the first bin [0, 0.2).
    expect(h.counts[0][0]).toBe(Array.from(a).filter((v) => v < 0.2).length);
  });

  it('layer results decode to the matrices the engine encoded; columns, rows and ranks index them as [stimulus, channel]', () => {
    const C = 3;
    const responses = Float32Array.from({ length: 4 * C }, (_, i) => (i * 7) % 5); // [4 stimuli, 3 channels]
    const profile = Float32Array.from({ length: C * 2 }, (_, i) => i / 10); // [3 channels, 2 positions]
    const l = layerResult({
      layer: 'conv',
      channels: C,
      stimuli: 4,
      rf: { size: 9 },
      responses: encodeFloat32(responses),
      apc: { r: encodeFloat32([0.1, 0.2, 0.3]), params: { muA: encodeFloat32([1, 2, 3]), sigmaA: encodeFloat32([1, 1, 1]), muC: encodeFloat32([0, 0, 0]), sigmaC: encodeFloat32([1, 1, 1]) } },
      shuffled: { r: encodeFloat32([0, 0, 0]) },
      translation: { direction: 'horizontal', step: 2, positions: [{ dx: -1, dy: 0 }, { dx: 1, dy: 0 }], centreIndex: 0, ti: encodeFloat32([0.9, 0.5, NaN]), rfProfile: encodeFloat32(profile), positionCorrelation: encodeFloat32(profile) },
    });
    expect(l.randomWeightsR).toBeNull();
    expect(l.natural).toBeNull();
    expect(Array.from(l.apc.r)).toEqual([0.1, 0.2, 0.3].map(Math.fround));
    const col1 = unitColumn(l.responses, C, 1);
    // Channel 1 holds entries 1, 4, 7, 10: (7i) mod 5 = 2, 3, 4, 0.
    expect(Array.from(col1)).toEqual([2, 3, 4, 0]);
    expect(Array.from(unitRow(l.translation!.rfProfile, C, 2))).toEqual([Math.fround(0.4), Math.fround(0.5)]);
    const order = rankStimuli(col1);
    for (let k = 1; k < order.length; k++) expect(col1[order[k - 1]]).toBeGreaterThanOrEqual(col1[order[k]]);
    expect(layerResult({ layer: 'x', translation: { reason: 'too small' } }).translationReason).toBe('too small');
  });

  it('the summary table prints as aligned columns with labels, numbers to 3 decimals, missing as "-"', () => {
    const lines = tableText({
      columns: ['layer', 'apcR', 'ti'],
      labels: { apcR: 'median APC r', ti: 'median TI' },
      table: [
        { layer: 'relu1_1', apcR: 0.41234, ti: null },
        { layer: 'relu3_4', apcR: 0.6, ti: 0.75 },
      ],
    });
    expect(lines).toEqual(['layer    median APC r  median TI', 'relu1_1         0.412          -', 'relu3_4         0.600      0.750']);
    expect(tableText({ anything: 1 })).toEqual([]);
  });
});

describe('reference methods of the workbench', () => {
  const dir = tempDir();
  let wb: Workbench;
  beforeAll(() => {
    wb = Workbench.open({ launcher: forkEngine, projectPath: path.join(dir, 'ref.artiphys'), create: true, backend: 'cpu' });
  });
  afterAll(() => wb.close());

  it('reference.v4 serves the 109 shipped V4 fits (same values as the original CSV) and the best published V4 values', async () => {
    const v4 = (await wb.call({ method: 'reference.v4' })) as V4Reference;
    const csv = fs.readFileSync(path.join(SHARED, 'data/v4/V4_109_apc_lsqnonlin_fits.csv'), 'utf8').trim().split('\n').slice(1);
    expect(v4.fits).toHaveLength(109);
    csv.forEach((line, k) => {
      const [, muA, muC, sdA, sdC, r] = line.split(',').map(Number);
      expect(v4.fits[k]).toEqual({ muA, muC, sigmaA: sdA, sigmaC: sdC, r });
    });
    expect(v4.bestReported).toEqual({ ti: 0.97, apcR: 0.8 });
  });

  it('reference.apcPoints serves the boundary points of all 370 stimuli as in the shared JSON', async () => {
    const ref = (await wb.call({ method: 'reference.apcPoints' })) as ApcPointsReference;
    const original = JSON.parse(fs.readFileSync(path.join(SHARED, 'data/shapes/PC370_apc_points.json'), 'utf8')) as { stimuli: [number, number][][] };
    expect(ref.stimuli).toHaveLength(370);
    expect(ref.stimuli).toEqual(original.stimuli);
  });

  it('rejects params it does not take', async () => {
    await expect(wb.call({ method: 'reference.v4', params: 7 })).rejects.toThrow(/reference.v4/);
  });
});
