// The unit index built from real runs: feature-vis, max-image, diverse (with its indices and a
// random-weights control) and shapes run on the built-in cell models and are stored through
// ProjectDb.addResult as the job runner stores them; every card's numbers and images are checked
// against the stored results read with the shared result readers.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/engine/backend';
import { ProjectDb } from '../../../src/main/services/project-db';
import { ablationKey, ablationResults } from '../../../src/shared/analyses/ablation';
import { datasetScanKey, datasetScanResults } from '../../../src/shared/analyses/dataset-scan';
import { maxImageKey } from '../../../src/shared/analyses/max-image';
import { diverseUnits } from '../../../src/shared/analyses/diverse-results';
import { checkResult } from '../../../src/shared/analyses/result-contract';
import { scaleInvarianceKey, scaleInvarianceResults } from '../../../src/shared/analyses/scale-invariance';
import { shapesKey } from '../../../src/shared/analyses/shapes';
import { layerResults, rankStimuli, stimuliResult, unitColumn } from '../../../src/shared/analyses/shapes-results';
import { encodeFloat32 } from '../../../src/shared/float-codec';
import type { UnitCard } from '../../../src/shared/curation';
import type { RunSummary } from '../../../src/shared/domain';
import { tempDir } from '../../helpers/temp';
import { runInto } from './helpers';

const dir = tempDir();
let db: ProjectDb;
const runs: Record<string, RunSummary> = {};

function cardsOf(modelId: string, layer: string): Map<number, UnitCard> {
  const page = db.gallery.query({ modelId, layer, filters: [] });
  return new Map(page.cards.map((c) => [c.channel, c]));
}

beforeAll(async () => {
  await initBackend();
  db = ProjectDb.open(path.join(dir, 'index.artiphys'), { create: true });
  runs.fv = await runInto(db, 'feature-vis', { modelId: 'builtin:complex-cell', layer: 'subunits', channels: [0, 1, 2], steps: 6, size: 32 });
  runs.max = await runInto(db, 'max-image', { modelId: 'builtin:simple-cell', steps: 10, checkpointEvery: 5 });
  const diverse = { modelId: 'builtin:energy', images: 2, lambdas: [0, 0.32], maxSteps: 15, textureCropStride: 6 };
  runs.diverse = await runInto(db, 'diverse', diverse);
  runs.control = await runInto(db, 'diverse', { ...diverse, indices: false, randomWeightsSeed: 3 });
  // Cancelled once its unit's first lambda is stored: the unit never completes.
  runs.cancelled = await runInto(db, 'diverse', { ...diverse, modelId: 'builtin:corner', lambdas: [0, 0.32, 1] }, 5, undefined, 'unit/response/0/lambda/0');
  runs.shapes = await runInto(db, 'shapes', {
    modelId: 'builtin:complex-cell',
    layers: ['subunits', 'response'],
    size: 12,
    shuffledControl: false,
    randomWeightsControl: false,
    distributions: false,
    maxPositions: 3,
  });
}, 240_000);

describe('unit index from real runs', () => {
  it('indexes feature-vis channels with their activation and visualization', () => {
    const cards = cardsOf('builtin:complex-cell', 'subunits');
    for (const r of db.listResults(runs.fv.id)) {
      const card = cards.get(r.data.channel as number)!;
      expect(card.metrics.fvActivation).toBeCloseTo(r.data.activation as number, 6);
      expect(card.imageIds).toContain(r.imageIds[0]);
      expect(card.runIds).toContain(runs.fv.id);
    }
  });

  it('indexes the preferred image of max-image, not its progress snapshots', () => {
    const results = db.listResults(runs.max.id);
    const final = results.find((r) => r.key === maxImageKey('unit', { layer: 'response', channel: 0 }))!;
    const card = cardsOf('builtin:simple-cell', 'response').get(0)!;
    expect(card.metrics.maxActivation).toBeCloseTo(final.data.activation as number, 6);
    expect(card.imageIds).toEqual(final.imageIds);
  });

  it('indexes diverse units as the diverse reader reads them, lambda* images first', () => {
    const [unit] = diverseUnits(runs.diverse, db.listResults(runs.diverse.id));
    expect(unit.complete).toBe(true);
    expect(unit.shiftInvariance).not.toBeNull();
    const card = cardsOf('builtin:energy', 'response').get(0)!;
    expect(card.metrics).toEqual({
      lambdaStar: unit.lambdaStar,
      ...(unit.diversityRatio !== null ? { diversityRatio: unit.diversityRatio } : {}),
      shiftInvariance: unit.shiftInvariance,
      ...(unit.linearCombination !== null ? { linearCombination: unit.linearCombination } : {}),
    });
    expect(card.imageIds).toEqual([...unit.starImageIds, unit.textureImageId]);
    // The per-lambda summaries stored while the run went on were replaced, not added.
    const detail = db.gallery.unit(card.unitId);
    expect(detail.runs.map((r) => r.runId)).toEqual([runs.diverse.id]);
    expect(detail.runs[0].images.map((i) => i.name)).toEqual(['lambda-star/img-0', 'lambda-star/img-1', 'texture']);
  });

  it('keeps the random-weights control apart under the id models.randomize gives that network', () => {
    const [unit] = diverseUnits(runs.control, db.listResults(runs.control.id));
    const card = cardsOf('builtin:energy-rand3', 'response').get(0)!;
    expect(card.runIds).toEqual([runs.control.id]);
    expect(card.metrics.lambdaStar).toBe(unit.lambdaStar);
    expect(card.metrics.shiftInvariance).toBeUndefined();
    expect(cardsOf('builtin:energy', 'response').get(0)!.runIds).toEqual([runs.diverse.id]);
  });

  it('puts the images a cancelled diverse run finished in the gallery, without the numbers of a whole sweep', () => {
    expect(runs.cancelled.status).toBe('cancelled');
    const results = db.listResults(runs.cancelled.id);
    const [unit] = diverseUnits(runs.cancelled, results);
    expect(unit.complete).toBe(false);
    expect(unit.lambdas).toEqual([0]);
    const card = cardsOf('builtin:corner', 'response').get(0)!;
    expect(card.runIds).toEqual([runs.cancelled.id]);
    expect(card.metrics).toEqual({});
    const firstLambda = results.find((r) => r.key === 'unit/response/0/lambda/0')!;
    expect(firstLambda.imageIds).toHaveLength(2);
    expect(card.imageIds).toEqual(firstLambda.imageIds);
  });

  it('indexes every channel of a shapes layer with APC r, TI and its three preferred shapes', () => {
    const results = db.listResults(runs.shapes.id);
    const stimuli = stimuliResult(results)!;
    const layers = layerResults(results);
    expect(layers.map((l) => l.layer)).toEqual(['subunits', 'response']);
    for (const l of layers) {
      const cards = cardsOf('builtin:complex-cell', l.layer);
      expect(cards.size).toBe(l.channels);
      for (let c = 0; c < l.channels; c++) {
        const card = cards.get(c)!;
        expect(card.metrics.apcR).toBe(l.apc.r[c]);
        if (l.translation) expect(card.metrics.translationInvariance).toBe(l.translation.ti[c]);
        const detail = db.gallery.unit(card.unitId).runs.find((r) => r.runId === runs.shapes.id)!;
        const best = rankStimuli(unitColumn(l.responses, l.channels, c)).slice(0, 3);
        expect(detail.images.map((i) => i.imageId)).toEqual(best.map((k) => stimuli.imageIds[k]));
      }
    }
    // The subunits layer also has feature-vis cards: both runs land on the same units.
    expect(cardsOf('builtin:complex-cell', 'subunits').get(0)!.runIds).toEqual([runs.shapes.id, runs.fv.id]);
  });

  it('lists the metrics present and the layers with their unit counts', () => {
    const page = db.gallery.query({ filters: [] });
    expect(page.metrics.map((m) => m.key).sort()).toEqual(
      ['apcR', 'diversityRatio', 'fvActivation', 'lambdaStar', 'linearCombination', 'maxActivation', 'shiftInvariance', 'translationInvariance'].filter(
        (k) => page.cards.some((c) => c.metrics[k] !== undefined),
      ),
    );
    const counted = new Map<string, number>();
    for (const c of page.cards) counted.set(`${c.modelId} ${c.layer}`, (counted.get(`${c.modelId} ${c.layer}`) ?? 0) + 1);
    expect(new Map(page.layers.map((l) => [`${l.modelId} ${l.layer}`, l.units]))).toEqual(counted);
    expect(page.totalUnits).toBe(page.cards.length);
  });

  it('reads scale-invariance and dataset-scan results built through their contracts; ablation has no units', () => {
    const layers = { in: 'layer1.0.in', pre: 'layer1.0.bn2', post: 'layer1.0.add' };
    const si = db.createRun({ kind: 'scale-invariance', title: 'si', modelId: 'resnet-x', settings: {}, seed: 1, appVersion: 'test' });
    const png = (name: string) => ({ name, width: 1, height: 1, png: new Uint8Array([137, 80, 78, 71]) });
    const criteria = { inOfIn: 2, preOfPre: 2, preOfIn: 1, preOfZoomedIn: 2, postOfIn: 3, postOfPre: 2.5, ratio: 1.2, silent: false };
    const verdicts: Record<'criterion1' | 'criterion2' | 'scaleInvariant', boolean | null> = { criterion1: true, criterion2: true, scaleInvariant: true };
    const channel = (c: number, values: Partial<typeof criteria & typeof verdicts>) =>
      checkResult(scaleInvarianceResults, 'channel', { block: 'layer1.0', channel: c, layers, ...criteria, ...verdicts, ...values, activations: {}, steps: 8, size: 32 });
    const key = (c: number) => scaleInvarianceKey('channel', { block: 'layer1.0', channel: c });
    db.addResult(si.id, key(4), channel(4, {}), [png('in-neuron'), png('pre-neuron'), png('in-zoomed')]);
    db.addResult(si.id, key(5), channel(5, { criterion2: false, ratio: 4, scaleInvariant: false }), []);
    // Channel 6 is silent: not judged, so its card carries no criteria metrics.
    db.addResult(si.id, key(6), channel(6, { silent: true, criterion1: null, criterion2: null, scaleInvariant: null }), []);
    const block = { block: 'layer1.0', layers, channels: 8, tested: 3, passing: [4], count: 1, percent: 100 / 3, silent: [6], criterion1Count: 2, criterion2Count: 1 };
    db.addResult(si.id, scaleInvarianceKey('block', { block: 'layer1.0' }), checkResult(scaleInvarianceResults, 'block', block), []);
    const top = [{ file: 'a.jpg', activation: 9.5 }, { file: 'b.jpg', activation: 7 }];
    const rfBox = { x0: 0, y0: 0, x1: 9, y1: 9 };
    const scanResult = (role: 'in' | 'post', layer: string, c: number, bottom: typeof top) =>
      checkResult(datasetScanResults, 'unit', { block: 'layer1.0', role, layer, channel: c, top, bottom, rfBox, images: 10 });
    db.addResult(si.id, scaleInvarianceKey('unit', { block: 'layer1.0', role: 'post', channel: 4 }), scanResult('post', layers.post, 4, []), [png('top-0'), png('top-1')]);
    const scan = db.createRun({ kind: 'dataset-scan', title: 'scan', modelId: 'resnet-x', settings: {}, seed: 1, appVersion: 'test' });
    db.addResult(scan.id, datasetScanKey('unit', { block: 'layer1.0', role: 'in', channel: 2 }), scanResult('in', layers.in, 2, [top[1]]), [
      png('top-0'),
      png('top-1'),
      png('bottom-0'),
    ]);
    const abl = db.createRun({ kind: 'ablation', title: 'abl', modelId: 'resnet-x', settings: {}, seed: 1, appVersion: 'test' });
    const summary = {
      block: 'layer1.0',
      layer: layers.post,
      images: 10,
      scales: [0, 20],
      intactTop1: [70, 60],
      invariantChannels: [4],
      invariantTop1: [65, 40],
      randomTop1: [[66, 55]],
      randomChannels: [[3]],
      ratioMean: [65 / 66, 40 / 55],
      ratioSe: [null, null],
      reference: 65 / 66,
      trialsAccepted: 1,
      trialsRequested: 1,
      draws: 1,
      tolerance: 1,
    };
    db.addResult(abl.id, ablationKey('summary'), checkResult(ablationResults, 'summary', summary), []);

    const post = cardsOf('resnet-x', layers.post);
    expect([...post.keys()].sort()).toEqual([4, 5, 6]);
    expect(post.get(6)!.metrics).toEqual({});
    expect(post.get(4)!.metrics).toEqual({ scaleCriteria: 2, scaleRatio: 1.2, topActivation: 9.5 });
    expect(post.get(5)!.metrics).toEqual({ scaleCriteria: 1, scaleRatio: 4 });
    const siImages = db.listResults(si.id).find((r) => r.key === key(4))!.imageIds;
    const topImages = db.listResults(si.id).find((r) => r.key === scaleInvarianceKey('unit', { block: 'layer1.0', role: 'post', channel: 4 }))!.imageIds;
    // One image of each analysis first: the visualization, then a top image, then the rest.
    expect(post.get(4)!.imageIds).toEqual([siImages[0], topImages[0], siImages[1], topImages[1]]);
    const scanned = cardsOf('resnet-x', layers.in).get(2)!;
    expect(scanned.metrics).toEqual({ topActivation: 9.5 });
    expect(db.gallery.unit(scanned.unitId).runs[0].images.map((i) => i.name)).toEqual(['top-0', 'top-1']);
    expect(db.gallery.query({ filters: [] }).cards.some((c) => c.runIds.includes(abl.id))).toBe(false);
  });

  it('replaces a re-stored result instead of adding to it (a resumed run redoing its last part)', () => {
    const run = db.createRun({ kind: 'shapes', title: 's', modelId: 'net-y', settings: {}, seed: 1, appVersion: 'test' });
    // Only the fields the index reads (a tolerant read: the rest of a layer result is not needed).
    const layer = (r: number[]) => ({ layer: 'conv1', channels: 2, stimuli: 1, apc: { r: encodeFloat32(r) } });
    db.addResult(run.id, shapesKey('layer', { layer: 'conv1' }), layer([0.1, 0.2]), []);
    db.addResult(run.id, shapesKey('layer', { layer: 'conv1' }), layer([0.5, Number.NaN]), []);
    const cards = cardsOf('net-y', 'conv1');
    expect(cards.get(0)!.metrics).toEqual({ apcR: 0.5 });
    expect(cards.get(1)!.metrics).toEqual({});
    expect(db.gallery.unit(cards.get(0)!.unitId).runs).toHaveLength(1);
  });
});
