// The shape analysis run end to end in the engine on the built-in cell models: what it emits
// per layer, checked against independent computations from the same real models.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/main/engine/backend';
import { createCellModel } from '../../../src/main/engine/models/ground-truth';
import { shapesAnalysis } from '../../../src/main/engine/analyses/shapes';
import type { ImageOut, RunContext } from '../../../src/main/engine/analysis';
import { shippedApcPoints, shippedShapes } from '../../../src/main/engine/shape-data';
import { shapesSettings } from '../../../src/shared/analyses/shapes';
import { decodeFloat32 } from '../../../src/shared/float-codec';
import { apcModelParams, apcPredict, selectStimuli } from '../../../src/shared/math/apc';
import { STANDARD_SET_INDICES, renderShape, setScale } from '../../../src/shared/math/shapes';

interface Recorded {
  results: Map<string, { data: Record<string, unknown>; images: ImageOut[] }>;
  checkpoints: unknown[];
}

async function run(settings: Record<string, unknown>, opts: { resumeFrom?: unknown; cancelAfter?: number } = {}): Promise<Recorded> {
  const rec: Recorded = { results: new Map(), checkpoints: [] };
  let progressCalls = 0;
  const ctx: RunContext = {
    runId: 1,
    seed: 3,
    cancelled: () => opts.cancelAfter !== undefined && progressCalls > opts.cancelAfter,
    progress: () => void progressCalls++,
    emitResult: (key, data, images = []) => void rec.results.set(key, { data, images }),
    checkpoint: (state) => void rec.checkpoints.push(state),
    resumeFrom: opts.resumeFrom ?? null,
    loadModel: async (id) => createCellModel(id.replace('builtin:', '') as Parameters<typeof createCellModel>[0]),
    log: () => {},
  };
  await shapesAnalysis.run(shapesSettings.parse(settings), ctx);
  return rec;
}

function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) { ma += a[i] / n; mb += b[i] / n; }
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < n; i++) { ab += (a[i] - ma) * (b[i] - mb); aa += (a[i] - ma) ** 2; bb += (b[i] - mb) ** 2; }
  return ab / Math.sqrt(aa * bb);
}

describe('shape analysis on ground-truth cells', () => {
  let full: Recorded;
  let tensorsBefore: number;

  beforeAll(async () => {
    await initBackend();
    tensorsBefore = tf.memory().numTensors;
    full = await run({ modelId: 'builtin:complex-cell', layers: ['subunits', 'response'], size: 12 });
  });

  it('emits the stimuli and one result per layer, checkpointing each, and frees its tensors', () => {
    expect([...full.results.keys()]).toEqual(['stimuli', 'layer/subunits', 'layer/response', 'summary']);
    const stimuli = full.results.get('stimuli')!;
    expect(stimuli.images).toHaveLength(362);
    expect(stimuli.images[0]).toMatchObject({ name: 'shape-0', width: 16, height: 16 });
    expect(full.checkpoints.at(-1)).toMatchObject({ done: ['stimuli', 'layer/subunits', 'layer/response'] });
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('stored responses are the central unit responses to the shapes at its RF centre', () => {
    const layer = full.results.get('layer/subunits')!.data;
    expect(layer.channels).toBe(8);
    const responses = decodeFloat32(layer.responses as string);
    expect(responses.length).toBe(362 * 8);
    // Independently: render three shapes on a 24 px image (the RF) and run the cell model.
    const shapes = shippedShapes();
    const model = createCellModel('complex-cell');
    const scale = setScale(shapes, 12);
    for (const k of [0, 150, 361]) {
      const grey = renderShape(shapes[STANDARD_SET_INDICES[k]], { width: 24, height: 24, scale, intensity: 255, background: 0, antialias: false });
      const direct = tf.tidy(() => model.forward(tf.tile(tf.tensor4d(grey, [1, 24, 24, 1]), [1, 1, 1, 3]) as tf.Tensor4D, ['subunits']).subunits.dataSync());
      for (let c = 0; c < 8; c++) expect(responses[k * 8 + c]).toBeCloseTo(direct[c], 3);
    }
    model.dispose();
  });

  it('APC r and best parameters are consistent: r is the correlation with the reported model', () => {
    const points = selectStimuli(shippedApcPoints(), STANDARD_SET_INDICES);
    for (const name of ['subunits', 'response']) {
      const layer = full.results.get(`layer/${name}`)!.data;
      const C = layer.channels as number;
      const responses = decodeFloat32(layer.responses as string);
      const apc = layer.apc as { r: string; model: number[]; params: Record<string, string>; medianR: number };
      const r = decodeFloat32(apc.r);
      const muC = decodeFloat32(apc.params.muC);
      for (let c = 0; c < C; c++) {
        const unit = Array.from({ length: 362 }, (_, s) => responses[s * C + c]);
        expect(pearson(apcPredict(points, apcModelParams(apc.model[c])), unit)).toBeCloseTo(r[c], 4);
        expect(muC[c]).toBeCloseTo(apcModelParams(apc.model[c]).muC, 6);
      }
      const medians = layer.medians as Record<string, number>;
      expect(medians.apcR).toBe(apc.medianR);
      // Controls: shuffling destroys shape tuning.
      expect(medians.shuffledR).toBeLessThan(medians.apcR - 0.15);
      expect(medians.randomWeightsR).toBeGreaterThan(0);
    }
  });

  it('translation invariance: the phase-pooling complex cell beats its simple-cell subunits', () => {
    const sub = full.results.get('layer/subunits')!.data;
    const resp = full.results.get('layer/response')!.data;
    const t = resp.translation as { positions: { dx: number; dy: number }[]; ti: string; rfProfile: string; positionCorrelation: string; centreIndex: number };
    expect(t.positions.map((p) => p.dx)).toEqual([-4, -2, 0, 2, 4]); // a 12 px set fits a 24 px RF only there
    const subTi = decodeFloat32((sub.translation as { ti: string }).ti);
    expect(Math.max(...subTi)).toBeLessThan(0.3);
    expect(decodeFloat32(t.ti)[0]).toBeGreaterThan(0.5);
    const corr = decodeFloat32(t.positionCorrelation);
    expect(corr[t.centreIndex]).toBeCloseTo(1, 5);
    expect(Math.max(...decodeFloat32(t.rfProfile))).toBeCloseTo(1, 6);
    expect(resp.randomWeightsTranslation).toBeDefined();
    const dist = resp.distributions as { large: string; dim: string };
    expect(decodeFloat32(dist.large).length).toBe(362);
    expect(decodeFloat32(dist.dim).length).toBe(362);
  });

  it('resumes after the last finished layer and stops early when cancelled', async () => {
    const lean = { modelId: 'builtin:simple-cell', layers: ['subunits', 'response'], size: 12, shuffledControl: false, randomWeightsControl: false, distributions: false, translation: false };
    const subunitsMedians = { apcR: 0.5, shuffledR: null, randomWeightsR: null, ti: null, naturalToShapeRatio: null };
    const resumed = await run(lean, { resumeFrom: { done: ['stimuli', 'layer/subunits'], medians: { subunits: subunitsMedians } } });
    expect([...resumed.results.keys()]).toEqual(['layer/response', 'summary']);
    // The summary covers the layers done before the restart too (their medians ride in the checkpoint).
    const table = resumed.results.get('summary')!.data.table as { layer: string; apcR: number }[];
    expect(table.map((r) => r.layer)).toEqual(['subunits', 'response']);
    expect(table[0].apcR).toBe(0.5);
    expect(table[1].apcR).toBe((resumed.results.get('layer/response')!.data.medians as { apcR: number }).apcR);
    const cancelled = await run(lean, { cancelAfter: 0 });
    expect([...cancelled.results.keys()]).toEqual(['stimuli']);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('natural images: responses to a folder of images, the max-natural over max-shape ratio; fewer sweep positions on request', async () => {
    // Uniform images: every crop and resize of them is the same uniform patch, so the expected
    // response is the model on a uniform image, whatever the evaluation view does.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'artiphys-natural-'));
    const greys = [40, 128, 250];
    greys.forEach((g, i) => {
      const png = new PNG({ width: 50, height: 37 });
      png.data.fill(g);
      for (let k = 3; k < png.data.length; k += 4) png.data[k] = 255;
      fs.writeFileSync(path.join(dir, `img-${i}.png`), PNG.sync.write(png));
    });
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not an image');
    try {
      const r = await run({ modelId: 'builtin:complex-cell', layers: ['response'], size: 12, shuffledControl: false, randomWeightsControl: false, distributions: false, naturalImages: dir, maxPositions: 3 });
      const layer = r.results.get('layer/response')!.data;
      const thinned = layer.translation as { positions: { dx: number }[]; positionCorrelation: string };
      expect(thinned.positions.map((p) => p.dx)).toEqual([-4, 0, 4]);
      // Each position's correlation with the centre is that of the full sweep (the centre's
      // responses, reused from the standard set, are the same as presenting them there again).
      const fullSweep = full.results.get('layer/response')!.data.translation as { positions: { dx: number }[]; positionCorrelation: string };
      const fullCorr = decodeFloat32(fullSweep.positionCorrelation);
      const thinCorr = decodeFloat32(thinned.positionCorrelation);
      [-4, 0, 4].forEach((dx, k) => expect(thinCorr[k]).toBeCloseTo(fullCorr[fullSweep.positions.findIndex((p) => p.dx === dx)], 5));
      const two = await run({ modelId: 'builtin:complex-cell', layers: ['response'], size: 12, shuffledControl: false, randomWeightsControl: false, distributions: false, maxPositions: 2 });
      expect((two.results.get('layer/response')!.data.translation as { positions: { dx: number }[] }).positions.map((p) => p.dx)).toEqual([0, 4]);
      const natural = layer.natural as { count: number; responses: string; ratio: string };
      expect(natural.count).toBe(3);
      const side = layer.imageSide as number;
      const model = createCellModel('complex-cell');
      const unit = layer.unit as { row: number; col: number };
      const direct = greys.map((g) => tf.tidy(() => model.forward(tf.fill([1, side, side, 3], g) as tf.Tensor4D, ['response']).response.slice([0, unit.row, unit.col, 0], [1, 1, 1, 1]).dataSync()[0]));
      model.dispose();
      const got = decodeFloat32(natural.responses);
      greys.forEach((_, i) => expect(got[i]).toBeCloseTo(direct[i], 3));
      const shapeMax = Math.max(...decodeFloat32(layer.responses as string));
      expect(decodeFloat32(natural.ratio)[0]).toBeCloseTo(Math.max(...direct) / shapeMax, 4);
      const summary = r.results.get('summary')!.data as { columns: string[]; table: Record<string, unknown>[] };
      expect(summary.table).toEqual([{ layer: 'response', ...(layer.medians as object) }]);
      expect(summary.columns).toContain('naturalToShapeRatio');
      await expect(run({ modelId: 'builtin:simple-cell', layers: ['response'], naturalImages: path.join(dir, 'missing') })).rejects.toThrow(/natural images: cannot read the folder/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('an RF smaller than the stimuli gives a reason instead of a TI; a wrong layer a clear error', async () => {
    const r = await run({ modelId: 'builtin:simple-cell', layers: ['response'], size: 32, shuffledControl: false, randomWeightsControl: false, distributions: false });
    expect((r.results.get('layer/response')!.data.translation as { reason: string }).reason).toMatch(/fewer than two positions/);
    await expect(run({ modelId: 'builtin:simple-cell', layers: ['conv9'] })).rejects.toThrow(/no layer "conv9"/);
  });
});
