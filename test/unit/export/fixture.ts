// A real project for the export tests: a shapes run of the built-in complex cell, run in this
// process by the engine's own analysis and stored through ProjectDb (results, encoded arrays,
// 362 PNG thumbnails), and a model imported from a real ONNX file copied into the test folder.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { shapesAnalysis } from '../../../src/main/engine/analyses/shapes';
import type { RunContext } from '../../../src/main/engine/analysis';
import { initBackend } from '../../../src/main/engine/backend';
import { encodePng } from '../../../src/main/engine/png';
import { createCellModel } from '../../../src/main/engine/models/ground-truth';
import { ProjectDb } from '../../../src/main/services/project-db';
import { shapesSettings } from '../../../src/shared/analyses/shapes';
import type { RunSummary } from '../../../src/shared/domain';

export const ROOT = path.resolve(import.meta.dirname, '../../..');
export const VGG_ONNX = path.resolve(ROOT, '../shared/models/vgg19_features_to_pool3_caffe_rgb.onnx');

/** Runs the shapes analysis on the complex cell and stores what it emits as run `run`. */
export async function storeShapesRun(db: ProjectDb, settings: Record<string, unknown>, seed = 3): Promise<RunSummary> {
  const parsed = shapesSettings.parse({ modelId: 'builtin:complex-cell', layers: ['subunits', 'response'], size: 12, ...settings });
  const run = db.createRun({ kind: 'shapes', title: 'shapes · complex cell', modelId: parsed.modelId, settings: parsed, seed, appVersion: 'test' });
  await initBackend();
  const ctx: RunContext = {
    runId: run.id,
    seed,
    cancelled: () => false,
    progress: () => {},
    // As the engine host does: images leave the engine as PNG.
    emitResult: (key, data, images = []) =>
      void db.addResult(run.id, key, data, images.map((i) => ({ name: i.name, width: i.width, height: i.height, png: encodePng(i.rgb, i.width, i.height) }))),
    checkpoint: (state) => db.saveCheckpoint(run.id, state),
    resumeFrom: null,
    loadModel: async (id) => createCellModel(id.replace('builtin:', '') as Parameters<typeof createCellModel>[0]),
    log: () => {},
  };
  db.markRunStarted(run.id, 'test');
  await shapesAnalysis.run(parsed, ctx);
  db.setRunStatus(run.id, 'done');
  return db.getRun(run.id)!;
}

/** Adds a model imported from a copy of the VGG-19 ONNX file in `dir` (its row as models.import writes it). */
export function addFileModel(db: ProjectDb, dir: string, id = 'vgg19-pool3'): string {
  const file = path.join(dir, `${id}.onnx`);
  fs.copyFileSync(VGG_ONNX, file);
  const sha256 = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  db.addModel({
    id,
    name: 'VGG-19 to pool3',
    format: 'onnx',
    source: file,
    sha256,
    inputConvention: { channelOrder: 'BGR', scale: 255, mean: [103.9, 116.8, 123.7], std: [1, 1, 1], inputSize: 224 },
    layerCount: 1,
    layers: [{ name: 'conv1_1', op: 'Conv', shape: [224, 224, 64], rf: { size: 3, jump: 1, offset: 0 } }],
  });
  return file;
}

export function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}
