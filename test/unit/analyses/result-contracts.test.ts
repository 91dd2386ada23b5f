// Every analysis' stored results from a real short run (built-in cell models, the tiny residual
// colour classifier on six images), stored in a real project as the job runner stores them, and
// read back through the kind's result contract: each key parses to a part and builds back to
// itself, the part's schema accepts the stored data, the unit index's cards and the table export
// carry what the contract reads. Then the same project file is opened again with fields that
// older versions did not store taken out, and still reads.
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/engine/backend';
import { ProjectDb } from '../../../src/main/services/project-db';
import { ablationResults } from '../../../src/shared/analyses/ablation';
import { datasetScanResults } from '../../../src/shared/analyses/dataset-scan';
import { diverseUnits } from '../../../src/shared/analyses/diverse-results';
import { featureVisResults } from '../../../src/shared/analyses/feature-vis';
import { maxImageResults } from '../../../src/shared/analyses/max-image';
import { ANALYSES, type AnalysisKind } from '../../../src/shared/analyses/registry';
import { parseResultKey, readResult, resultKey, resultsOf, type ResultContract } from '../../../src/shared/analyses/result-contract';
import { scaleInvarianceResults } from '../../../src/shared/analyses/scale-invariance';
import { layerResults } from '../../../src/shared/analyses/shapes-results';
import type { UnitCard } from '../../../src/shared/curation';
import type { RunSummary } from '../../../src/shared/domain';
import { runTable } from '../../../src/shared/tables';
import { tempDir } from '../../helpers/temp';
import { runInto } from '../gallery/helpers';
import { colourClassifier, writeColourImages } from '../residual/tiny-models';

const dir = tempDir();
const file = path.join(dir, 'contracts.artiphys');
const images = path.join(dir, 'images');
let db: ProjectDb;
const runs = {} as Record<AnalysisKind, RunSummary>;
const colour = async () => colourClassifier();

function cardsOf(p: ProjectDb, modelId: string, layer: string): Map<number, UnitCard> {
  return new Map(p.gallery.query({ modelId, layer, filters: [] }).cards.map((c) => [c.channel, c]));
}

beforeAll(async () => {
  await initBackend();
  mkdirSync(images);
  writeColourImages(images);
  db = ProjectDb.open(file, { create: true });
  runs['max-image'] = await runInto(db, 'max-image', { modelId: 'builtin:simple-cell', steps: 10, checkpointEvery: 5 });
  runs['feature-vis'] = await runInto(db, 'feature-vis', { modelId: 'builtin:complex-cell', layer: 'subunits', channels: [0, 1], steps: 6, size: 32 });
  runs.diverse = await runInto(db, 'diverse', { modelId: 'builtin:energy', images: 2, lambdas: [0, 0.32], maxSteps: 15, textureCropStride: 6 });
  runs.shapes = await runInto(db, 'shapes', {
    modelId: 'builtin:complex-cell',
    layers: ['subunits', 'response'],
    size: 12,
    shuffledControl: false,
    randomWeightsControl: false,
    distributions: false,
    maxPositions: 3,
  });
  const residual = { modelId: 'colour', images, blocks: 'block' };
  runs['dataset-scan'] = await runInto(db, 'dataset-scan', { ...residual, topK: 2, bottomK: 1, batchSize: 4, crop: 24, resize: 24 }, 5, colour);
  runs['scale-invariance'] = await runInto(db, 'scale-invariance', { ...residual, size: 32, steps: 4, batchSize: 3, galleryVisualizations: false }, 5, colour);
  runs.ablation = await runInto(db, 'ablation', { modelId: 'colour', block: 'block', images, channels: [2], scales: [0, 20], trials: 2, batchSize: 4, maxDraws: 5 }, 5, colour);
}, 300_000);

/** The parts a run stored, with how many results of each. */
function partCounts(kind: AnalysisKind): Record<string, number> {
  const contract: ResultContract = ANALYSES[kind].results;
  const counts: Record<string, number> = {};
  for (const r of db.listResults(runs[kind].id)) {
    const parsed = parseResultKey(contract, r.key);
    expect(parsed, `${kind} result ${r.key}`).not.toBeNull();
    counts[parsed!.part] = (counts[parsed!.part] ?? 0) + 1;
  }
  return counts;
}

describe('result contracts from real runs', () => {
  it('every stored key is a part of its kind, builds back from its fields, and its data passes the part schema', () => {
    for (const kind of Object.keys(ANALYSES) as AnalysisKind[]) {
      const contract: ResultContract = ANALYSES[kind].results;
      const results = db.listResults(runs[kind].id);
      expect(results.length, kind).toBeGreaterThan(0);
      for (const r of results) {
        const { part, params } = parseResultKey(contract, r.key)!;
        expect(resultKey(contract, part, params as never)).toBe(r.key);
        const checked = contract[part].data.safeParse(r.data);
        expect(checked.error?.issues ?? [], `${kind} ${r.key}`).toEqual([]);
        // A current result reads whole: nothing is dropped as not matching.
        expect(readResult(contract[part].data, r.data)).toEqual(r.data);
      }
    }
    expect(partCounts('max-image')).toEqual({ snapshot: 2, unit: 1 });
    expect(partCounts('feature-vis')).toEqual({ channel: 2 });
    expect(partCounts('diverse')).toEqual({ lambda: 2, unit: 1, summary: 1 });
    expect(partCounts('shapes')).toEqual({ stimuli: 1, layer: 2, summary: 1 });
    expect(partCounts('dataset-scan')).toEqual({ unit: 9 }); // In, Pre and Post of three channels
    // The colour block has three channels; with an image folder the run also scans In, Pre and Post.
    expect(partCounts('scale-invariance')).toEqual({ channel: 3, block: 1, unit: 9 });
    expect(partCounts('ablation')).toEqual({ conditions: 1, trial: 2, summary: 1 });
  });

  it('the unit index cards carry what the contracts read', () => {
    const max = resultsOf(maxImageResults, 'unit', db.listResults(runs['max-image'].id))[0];
    expect(cardsOf(db, 'builtin:simple-cell', 'response').get(max.params.channel)!.metrics.maxActivation).toBeCloseTo(max.data.activation!, 6);

    for (const { params, data, record } of resultsOf(featureVisResults, 'channel', db.listResults(runs['feature-vis'].id))) {
      const card = cardsOf(db, 'builtin:complex-cell', params.layer).get(params.channel)!;
      expect(card.metrics.fvActivation).toBeCloseTo(data.activation!, 6);
      expect(card.imageIds).toContain(record.imageIds[0]);
    }

    const [unit] = diverseUnits(runs.diverse, db.listResults(runs.diverse.id));
    expect(cardsOf(db, 'builtin:energy', unit.layer).get(unit.channel)!.metrics.lambdaStar).toBe(unit.lambdaStar);

    for (const l of layerResults(db.listResults(runs.shapes.id))) {
      const cards = cardsOf(db, 'builtin:complex-cell', l.layer);
      for (let c = 0; c < l.channels; c++) expect(cards.get(c)!.metrics.apcR).toBe(l.apc.r[c]);
    }

    const scanned = resultsOf(datasetScanResults, 'unit', db.listResults(runs['dataset-scan'].id));
    for (const { data, record } of scanned) {
      // The scale-invariance run scans the same units (at another crop): read this run's part of the card.
      const card = cardsOf(db, 'colour', data.layer!).get(data.channel!)!;
      const fromScan = db.gallery.unit(card.unitId).runs.find((r) => r.runId === runs['dataset-scan'].id)!;
      expect(fromScan.metrics.topActivation).toBe(data.top![0].activation);
      expect(fromScan.images.map((i) => i.imageId)).toEqual(record.imageIds.slice(0, 2)); // the two top crops, not the bottom one
    }

    const si = db.listResults(runs['scale-invariance'].id);
    for (const c of resultsOf(scaleInvarianceResults, 'channel', si)) {
      const card = cardsOf(db, 'colour', c.data.layers!.post!).get(c.params.channel)!;
      expect(card.runIds).toContain(runs['scale-invariance'].id);
      if (c.data.silent) expect(card.metrics.scaleCriteria).toBeUndefined();
      else expect(card.metrics.scaleCriteria).toBe((c.data.criterion1 ? 1 : 0) + (c.data.criterion2 ? 1 : 0));
    }
    const cards = db.gallery.query({ filters: [] }).cards;
    expect(cards.some((c) => c.runIds.includes(runs.ablation.id))).toBe(false);
  });

  it('the table export of every run is built from its parts', () => {
    const si = db.listResults(runs['scale-invariance'].id);
    const siTable = runTable('scale-invariance', si);
    expect(siTable.rows.map((r) => r.channel)).toEqual(resultsOf(scaleInvarianceResults, 'channel', si).map((c) => c.params.channel));
    expect(siTable.rows.map((r) => r.ratio)).toEqual(resultsOf(scaleInvarianceResults, 'channel', si).map((c) => c.data.ratio));

    const abl = db.listResults(runs.ablation.id);
    const summary = resultsOf(ablationResults, 'summary', abl)[0].data;
    const ablTable = runTable('ablation', abl);
    expect(ablTable.rows.map((r) => r.scale)).toEqual([0, 20]);
    expect(ablTable.rows.map((r) => r.intactTop1)).toEqual(summary.intactTop1);
    expect(ablTable.rows.every((r) => r.randomSets === 2)).toBe(true);

    const diverse = db.listResults(runs.diverse.id);
    const diverseTable = runTable('diverse', diverse);
    expect(diverseTable.columns).toEqual(resultsOf(ANALYSES.diverse.results, 'summary', diverse)[0].data.columns);
    expect(diverseTable.rows).toHaveLength(1);

    // Shapes: a row per unit of every stored layer, its APC r read from that layer's part.
    const shapeLayers = layerResults(db.listResults(runs.shapes.id));
    const shapesTable = runTable('shapes', db.listResults(runs.shapes.id));
    expect(shapesTable.rows.map((r) => `${r.layer}/${r.channel}`)).toEqual(shapeLayers.flatMap((l) => Array.from({ length: l.channels }, (_, c) => `${l.layer}/${c}`)));
    for (const l of shapeLayers) {
      const rows = shapesTable.rows.filter((r) => r.layer === l.layer);
      expect(rows.map((r) => r.apcR)).toEqual(Array.from(l.apc.r ?? [], (v) => (Number.isFinite(v) ? v : null)));
    }
    // Kinds without a table of their own: a row per result, keyed by its stored key.
    const maxTable = runTable('max-image', db.listResults(runs['max-image'].id));
    expect(maxTable.rows.map((r) => r.key)).toEqual(db.listResults(runs['max-image'].id).map((r) => r.key));
  });

  it('opens the project file again with fields older versions did not store, and reads it tolerantly', () => {
    db.close();
    const older = path.join(dir, 'older.artiphys');
    copyFileSync(file, older);
    // Older versions: no silent floor (scale invariance), no traceEvery (max-image), and a
    // field in a form this version does not read (a string where a number belongs).
    const raw = new Database(older);
    const strip = raw.prepare(`UPDATE results SET data = json_remove(data, ?) WHERE run_id = ? AND key LIKE ?`);
    strip.run('$.silent', runs['scale-invariance'].id, 'channel/%');
    strip.run('$.silent', runs['scale-invariance'].id, 'block/%');
    strip.run('$.traceEvery', runs['max-image'].id, 'unit/%');
    raw.prepare(`UPDATE results SET data = json_set(data, '$.activation', 'high') WHERE run_id = ? AND key LIKE 'snapshot/%'`).run(runs['max-image'].id);
    // The index is rebuilt from the stored results when the project opens.
    raw.prepare(`DELETE FROM meta WHERE key = 'unit_index_version'`).run();
    raw.close();

    const old = ProjectDb.open(older);
    try {
      const si = old.listResults(runs['scale-invariance'].id);
      const channels = resultsOf(scaleInvarianceResults, 'channel', si);
      expect(channels).toHaveLength(3);
      expect(channels.every((c) => c.data.silent === undefined && 'ratio' in c.data)).toBe(true);
      expect(resultsOf(scaleInvarianceResults, 'block', si)[0].data.silent).toBeUndefined();
      expect(runTable('scale-invariance', si).rows.every((r) => r.silent === null)).toBe(true);
      const final = resultsOf(maxImageResults, 'unit', old.listResults(runs['max-image'].id))[0].data;
      expect(final.traceEvery).toBeUndefined();
      expect(final.trace).toHaveLength(2);
      const snapshot = resultsOf(maxImageResults, 'snapshot', old.listResults(runs['max-image'].id))[0].data;
      expect(snapshot.activation).toBeUndefined();
      expect(snapshot.step).toBe(5);
      // The rebuilt index has the cards of the project it was copied from (without the silent
      // floor, a scale-invariance channel's criteria count as judged: only their metrics differ).
      const now = ProjectDb.open(file, { readOnly: true });
      try {
        const strip = (cs: UnitCard[]) =>
          cs.map((c) => ({ modelId: c.modelId, layer: c.layer, channel: c.channel, imageIds: c.imageIds, ...(c.modelId === 'colour' ? {} : { metrics: c.metrics }) }));
        expect(strip(old.gallery.query({ filters: [] }).cards)).toEqual(strip(now.gallery.query({ filters: [] }).cards));
      } finally {
        now.close();
      }
    } finally {
      old.close();
    }
  });
});

describe('result keys', () => {
  it('parse back names holding a slash, try the longer part first, and refuse bad fields', () => {
    const lambda = resultKey(ANALYSES.diverse.results, 'lambda', { layer: 'features/10', channel: 3, lambdaIndex: 2 });
    expect(lambda).toBe('unit/features/10/3/lambda/2');
    expect(parseResultKey(ANALYSES.diverse.results, lambda)).toEqual({ part: 'lambda', params: { layer: 'features/10', channel: 3, lambdaIndex: 2 } });
    expect(parseResultKey(ANALYSES.diverse.results, 'unit/features/10/3')).toEqual({ part: 'unit', params: { layer: 'features/10', channel: 3 } });
    expect(parseResultKey(ANALYSES['dataset-scan'].results, 'unit/layer1.0/mid/3')).toBeNull();
    expect(parseResultKey(ANALYSES.ablation.results, 'trial/x')).toBeNull();
    expect(() => resultKey(ANALYSES['max-image'].results, 'unit', { layer: 'conv1', channel: -1 })).toThrow(/bad channel -1/);
    expect(() => resultKey(ANALYSES['max-image'].results, 'unit', { layer: '', channel: 0 })).toThrow(/bad layer/);
  });
});
