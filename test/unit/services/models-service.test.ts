// Model records in a project: the schema-2 migration of a schema-1 file, the "convention guessed"
// mark from import to the first save, and random-weights copies, with the real engine reading a
// real ONNX file.
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { InputConvention, ModelDetail, ModelSummary } from '../../../src/shared/domain';
import { forkEngine } from '../../../src/main/services/engine-process';
import { APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION } from '../../../src/main/services/migrations';
import { ProjectDb } from '../../../src/main/services/project-db';
import { Workbench } from '../../../src/main/services/workbench';
import { inspectModelFile } from '../../../src/main/engine/models/load';
import { tempDir } from '../../helpers/temp';

const dir = tempDir();
const VGG = path.resolve(import.meta.dirname, '../../../../shared/models/vgg19_features_to_pool3_caffe_rgb.onnx');
const convention: InputConvention = { channelOrder: 'BGR', scale: 255, mean: [103.9, 116.8, 123.7], std: [1, 1, 1], inputSize: 224 };

describe('schema 2: convention_guessed', () => {
  it('upgrades a schema-1 project in place, keeping its models, unmarked', () => {
    const file = path.join(dir, 'v1.artiphys');
    const raw = new Database(file);
    raw.exec(MIGRATIONS[0]);
    raw.pragma(`application_id = ${APPLICATION_ID}`);
    raw.pragma('user_version = 1');
    raw
      .prepare(`INSERT INTO models(id, name, format, source, input_convention, created_at) VALUES ('m1', 'old', 'onnx', '/x.onnx', ?, '2026-01-01')`)
      .run(JSON.stringify(convention));
    raw.close();

    const db = ProjectDb.open(file);
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(2);
    expect(db.info().schemaVersion).toBe(SCHEMA_VERSION);
    const m = db.getModel('m1')!;
    expect(m).toMatchObject({ id: 'm1', name: 'old', inputConvention: convention });
    expect(m.conventionGuessed).toBeUndefined();
    db.close();
  });

  it('keeps the mark until a convention is saved, and copies keep their layers', () => {
    const db = ProjectDb.open(path.join(dir, 'marks.artiphys'), { create: true });
    const model: ModelDetail = {
      id: 'a',
      name: 'A',
      format: 'onnx',
      source: '/a.onnx',
      inputConvention: { ...convention },
      layerCount: 2,
      conventionGuessed: true,
      layers: [
        { name: 'c', op: 'Conv', shape: [8, 8, 4], rf: { size: 3, jump: 1, offset: 0 } },
        { name: 'f', op: 'Flatten', shape: [256] },
      ],
    };
    db.addModel(model);
    expect(db.getModel('a')!.conventionGuessed).toBe(true);
    db.copyModel('a', { id: 'a-rand1', name: 'A random', randomWeightsSeed: 1 });
    const copy = db.getModel('a-rand1')!;
    expect(copy).toMatchObject({ source: '/a.onnx', randomWeightsSeed: 1, conventionGuessed: true, layers: model.layers });
    db.setInputConvention('a', { ...convention, channelOrder: 'RGB' });
    expect(db.getModel('a')!.conventionGuessed).toBeUndefined();
    expect(db.getModel('a')!.inputConvention.channelOrder).toBe('RGB');
    expect(() => db.copyModel('nope', { id: 'x', name: 'x', randomWeightsSeed: 2 })).toThrow(/no model nope/);
    db.close();
  });
});

describe('models.randomize through the workbench', () => {
  const wb = Workbench.open({ launcher: forkEngine, projectPath: path.join(dir, 'wb.artiphys'), create: true, backend: 'cpu' });
  afterAll(() => wb.close());
  const call = <T>(method: string, params: unknown) => wb.call({ method, params }) as Promise<T>;

  it('adds a random-weights copy with the same file, convention and layers; refuses built-ins', async () => {
    const imported = await call<ModelSummary>('models.import', { path: VGG });
    // The import records whether the engine had to guess the convention (the file has no metadata).
    const inspected = await inspectModelFile(VGG);
    expect(imported.conventionGuessed ?? false).toBe(inspected.conventionGuessed);
    expect((await call<ModelSummary>('models.get', { modelId: imported.id })).conventionGuessed ?? false).toBe(inspected.conventionGuessed);
    const edited = await call<ModelSummary>('models.setConvention', { modelId: imported.id, convention });
    expect(edited.conventionGuessed).toBeUndefined();

    const copy = await call<ModelSummary>('models.randomize', { modelId: imported.id, seed: 42 });
    expect(copy.id).not.toBe(imported.id);
    expect(copy).toMatchObject({ source: imported.source, format: 'onnx', randomWeightsSeed: 42, inputConvention: convention });
    expect(copy.name).toContain('seed 42');
    const [a, b] = await Promise.all([
      call<ModelDetail>('models.get', { modelId: imported.id }),
      call<ModelDetail>('models.get', { modelId: copy.id }),
    ]);
    expect(b.layers).toEqual(a.layers);
    // A second copy with the same seed gets its own id; the list shows all three.
    const again = await call<ModelSummary>('models.randomize', { modelId: copy.id, seed: 42 });
    expect(again.id).not.toBe(copy.id);
    expect(again.name.match(/random weights/g)).toHaveLength(1);
    const ids = (await call<ModelSummary[]>('models.list', {})).map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining([imported.id, copy.id, again.id]));

    await expect(call('models.randomize', { modelId: 'builtin:energy', seed: 1 })).rejects.toThrow(/built-in/);
    await expect(call('models.randomize', { modelId: imported.id, seed: -1 })).rejects.toThrow(/seed/);
  }, 120_000);
});
