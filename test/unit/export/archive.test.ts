// Project archives: export of an open project (real shapes run with its images, a model imported
// from a real ONNX file) and import into a new file with identical runs, results and image bytes
// and the model pointing at its unpacked copy; archives from GNU tar; damaged or hostile archives
// refused with nothing left behind; projects of older schema versions migrated on open and on import.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportProjectArchive, importedModelsDir, importProjectArchive, manifestFor, writeArchive, type ArchiveManifest } from '../../../src/main/data-export/archive';
import { initBackend } from '../../../src/main/engine/backend';
import { modelCompanionFiles } from '../../../src/main/engine/formats/companions';
import { parseOnnx } from '../../../src/main/engine/formats/onnx';
import { loadModelFile } from '../../../src/main/engine/models/load';
import { TAR_END, tarHeader, tarPadding } from '../../../src/main/data-export/tar';
import { encodePng } from '../../../src/main/engine/png';
import { dataExportHandlers } from '../../../src/main/services/handlers/data-export';
import { APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION } from '../../../src/main/services/migrations';
import { ProjectDb } from '../../../src/main/services/project-db';
import type { InputConvention } from '../../../src/shared/domain';
import { tempDir } from '../../helpers/temp';
import { buildModel, ints, randomArray, weights, withExternalData } from '../models/onnx-builder';
import { buildGraphModel, floats, listI, listS, s as tfString, type GraphModelSpec } from '../models/tfjs-graph-builder';
import { projectContext } from './context';
import { addFileModel, sha256, storeShapesRun, VGG_ONNX } from './fixture';

const dir = tempDir('artiphys-export-archive-');
const sourceFile = path.join(dir, 'source.artiphys');
const archive = path.join(dir, 'source.artiphys-archive');
let ctx: ReturnType<typeof projectContext>;
let handlers: ReturnType<typeof dataExportHandlers>;
let modelFile: string;

/** Everything a project holds that an archive must carry over, model paths aside. */
function contents(db: ProjectDb) {
  const runs = db.listRuns(1000);
  const results = runs.flatMap((r) => db.listResults(r.id));
  const images = results.flatMap((r) => r.imageIds).map((id) => db.getImage(id)!);
  const models = db.listModels().map(({ source: _source, ...m }) => m);
  return { runs, results, images, models };
}

/** Files and folders in `folder`, to check that a refused import left nothing. */
const listing = (folder: string) => fs.readdirSync(folder).sort();

beforeAll(async () => {
  const db = ProjectDb.open(sourceFile, { create: true });
  await storeShapesRun(db, { translation: false, layers: ['response'] });
  modelFile = addFileModel(db, dir);
  db.copyModel('vgg19-pool3', { id: 'vgg19-pool3-rand7', name: 'VGG random', randomWeightsSeed: 7 });
  // Another file of the same name elsewhere: both are archived, under distinct names.
  fs.mkdirSync(path.join(dir, 'other'));
  addFileModel(db, path.join(dir, 'other'), 'vgg19-pool3-b');
  fs.renameSync(path.join(dir, 'other', 'vgg19-pool3-b.onnx'), path.join(dir, 'other', 'vgg19-pool3.onnx'));
  db.relocateModelFile(path.join(dir, 'other', 'vgg19-pool3-b.onnx'), path.join(dir, 'other', 'vgg19-pool3.onnx'));
  ctx = projectContext(db);
  handlers = dataExportHandlers(ctx);
});
afterAll(() => ctx.close());

describe('project archive round trip', () => {
  it('exports a gzip\'d tar that GNU tar reads: manifest first, the database snapshot, each model file once', async () => {
    const r = await handlers['project.exportArchive']({ path: archive });
    expect(r).toEqual({ path: archive, bytes: fs.statSync(archive).size, files: ['manifest.json', 'project.sqlite', 'models/vgg19-pool3.onnx', 'models/2-vgg19-pool3.onnx'] });
    expect(execFileSync('tar', ['-tzf', archive], { encoding: 'utf8' }).trim().split('\n')).toEqual(r.files);
    const manifest = JSON.parse(execFileSync('tar', ['-xzOf', archive, 'manifest.json'], { encoding: 'utf8' })) as ArchiveManifest;
    expect(manifest).toMatchObject({ format: 'artiphys-archive', formatVersion: 1, schemaVersion: SCHEMA_VERSION, project: sourceFile });
    expect(manifest.files.find((f) => f.name === 'models/vgg19-pool3.onnx')).toEqual({ name: 'models/vgg19-pool3.onnx', bytes: fs.statSync(VGG_ONNX).size, sha256: sha256(VGG_ONNX) });
    // The source project is still open and usable.
    expect(ctx.project.info().counts.runs).toBe(1);
    expect(listing(dir).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('imports into a new project with the same runs, results and image bytes, models pointing at unpacked copies', async () => {
    const before = contents(ctx.project);
    const dest = path.join(dir, 'copy', 'imported.artiphys');
    const info = await handlers['project.importArchive']({ archive, path: dest });
    expect(info).toMatchObject({ path: dest, schemaVersion: SCHEMA_VERSION, counts: ctx.project.info().counts });
    expect(ctx.project.path).toBe(dest);
    expect(ctx.events).toContainEqual({ type: 'project.changed', path: dest });
    const after = contents(ctx.project);
    expect(after.runs).toEqual(before.runs);
    expect(after.results).toEqual(before.results);
    expect(after.images.length).toBe(362);
    after.images.forEach((img, i) => expect(Buffer.compare(img.png, before.images[i].png), `image ${img.id}`).toBe(0));
    expect(after.models).toEqual(before.models);

    const unpacked = importedModelsDir(dest);
    expect(unpacked).toBe(path.join(dir, 'copy', 'imported-models'));
    const sources = Object.fromEntries(ctx.project.listModels().map((m) => [m.id, m.source]));
    expect(sources).toEqual({
      'vgg19-pool3': path.join(unpacked, 'vgg19-pool3.onnx'),
      'vgg19-pool3-rand7': path.join(unpacked, 'vgg19-pool3.onnx'),
      'vgg19-pool3-b': path.join(unpacked, '2-vgg19-pool3.onnx'),
    });
    for (const file of new Set(Object.values(sources))) expect(sha256(file!)).toBe(sha256(modelFile));
    // Nothing else beside it (the open project's journal, shared-memory and lock files aside).
    expect(listing(path.join(dir, 'copy')).filter((f) => !/-(wal|shm|lock)$/.test(f))).toEqual(['imported-models', 'imported.artiphys']);
  });

  it('never overwrites: importing onto an existing file is refused and leaves it as it was', async () => {
    const dest = path.join(dir, 'copy', 'imported.artiphys');
    const hash = sha256(archive);
    const existing = path.join(dir, 'exists.artiphys');
    fs.writeFileSync(existing, 'keep me');
    await expect(handlers['project.importArchive']({ archive, path: existing })).rejects.toMatchObject({ code: 'bad_request', message: expect.stringContaining('already exists') });
    expect(fs.readFileSync(existing, 'utf8')).toBe('keep me');
    // A models folder that already holds the file: refused too, nothing placed.
    const again = path.join(dir, 'copy', 'imported2.artiphys');
    fs.mkdirSync(importedModelsDir(again));
    fs.writeFileSync(path.join(importedModelsDir(again), 'vgg19-pool3.onnx'), 'other');
    await expect(handlers['project.importArchive']({ archive, path: again })).rejects.toMatchObject({ code: 'bad_request', message: expect.stringContaining('already exists') });
    expect(fs.existsSync(again)).toBe(false);
    expect(fs.readFileSync(path.join(importedModelsDir(again), 'vgg19-pool3.onnx'), 'utf8')).toBe('other');
    expect(listing(importedModelsDir(again))).toEqual(['vgg19-pool3.onnx']);
    expect(sha256(archive)).toBe(hash);
    expect(ctx.project.path).toBe(dest);
  });

  it('reads an archive written by GNU tar (its own format)', async () => {
    const unpacked = path.join(dir, 'gnu');
    fs.mkdirSync(unpacked);
    execFileSync('tar', ['-xzf', archive, '-C', unpacked]);
    const gnuArchive = path.join(dir, 'gnu.artiphys-archive');
    execFileSync('tar', ['-czf', gnuArchive, '-C', unpacked, 'manifest.json', 'project.sqlite', 'models/vgg19-pool3.onnx', 'models/2-vgg19-pool3.onnx']);
    const info = await handlers['project.importArchive']({ archive: gnuArchive, path: path.join(dir, 'gnu.artiphys') });
    expect(info.counts.images).toBe(362);
  });
});

/** An archive of hand-made entries: [name, bytes] in order, through gzip. */
function rawArchive(file: string, entries: [string, Buffer][]): string {
  const parts = entries.flatMap(([name, bytes]) => [tarHeader({ name, size: bytes.length }, 0), bytes, tarPadding(bytes.length)]);
  fs.writeFileSync(file, zlib.gzipSync(Buffer.concat([...parts, TAR_END])));
  return file;
}

describe('damaged and hostile archives', () => {
  const bad = path.join(dir, 'bad');
  const dest = path.join(bad, 'out.artiphys');
  let manifest: ArchiveManifest;
  let db: Buffer;

  beforeAll(async () => {
    fs.mkdirSync(bad);
    const unpacked = path.join(dir, 'gnu');
    manifest = JSON.parse(fs.readFileSync(path.join(unpacked, 'manifest.json'), 'utf8')) as ArchiveManifest;
    db = fs.readFileSync(path.join(unpacked, 'project.sqlite'));
  });

  /** Imports `file`, expects the error, and checks that the folder holds nothing new. */
  async function refused(file: string, code: string, message: RegExp): Promise<void> {
    const before = listing(bad);
    await expect(handlers['project.importArchive']({ archive: file, path: dest })).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
    expect(listing(bad)).toEqual(before); // no project, no models folder, no staging folder, no escaped x
  }

  const withoutModels = (m: ArchiveManifest): ArchiveManifest => ({ ...m, files: m.files.filter((f) => f.name === 'project.sqlite'), models: [] });

  it('a truncated archive; a folder the import made for the project goes again', async () => {
    const whole = fs.readFileSync(archive);
    fs.writeFileSync(path.join(bad, 'truncated.bin'), whole.subarray(0, Math.floor(whole.length / 2)));
    await refused(path.join(bad, 'truncated.bin'), 'project_corrupt', /truncated/);
    await expect(handlers['project.importArchive']({ archive: path.join(bad, 'truncated.bin'), path: path.join(bad, 'new', 'deeper', 'p.artiphys') })).rejects.toMatchObject({ code: 'project_corrupt' });
    expect(fs.existsSync(path.join(bad, 'new'))).toBe(false);
  });

  it('random bytes', async () => {
    fs.writeFileSync(path.join(bad, 'random.bin'), Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 251)));
    await refused(path.join(bad, 'random.bin'), 'bad_request', /not an Artiphys archive/);
  });

  it('a gzip\'d tar of something else', async () => {
    await refused(rawArchive(path.join(bad, 'other.tgz'), [['README', Buffer.from('hello')]]), 'bad_request', /first entry is "README"/);
  });

  it('an entry that climbs out of the folder (../x)', async () => {
    const m = withoutModels(manifest);
    const file = rawArchive(path.join(bad, 'traversal.tgz'), [['manifest.json', Buffer.from(JSON.stringify(m))], ['project.sqlite', db], ['../x', Buffer.from('escaped')]]);
    await refused(file, 'bad_request', /"\.\.\/x" outside/);
    await refused(rawArchive(path.join(bad, 'absolute.tgz'), [['manifest.json', Buffer.from(JSON.stringify(m))], ['models/../../x', Buffer.from('escaped')]]), 'bad_request', /outside/);
  });

  it('a file that does not match its manifest checksum', async () => {
    const damaged = Buffer.from(db);
    damaged[damaged.length - 100] ^= 0xff;
    const file = rawArchive(path.join(bad, 'checksum.tgz'), [['manifest.json', Buffer.from(JSON.stringify(withoutModels(manifest)))], ['project.sqlite', damaged]]);
    await refused(file, 'checksum_mismatch', /project\.sqlite .* does not match its manifest checksum/);
  });

  it('a project of a newer schema', async () => {
    const m = { ...withoutModels(manifest), schemaVersion: SCHEMA_VERSION + 1 };
    const file = rawArchive(path.join(bad, 'newer.tgz'), [['manifest.json', Buffer.from(JSON.stringify(m))], ['project.sqlite', db]]);
    await refused(file, 'project_newer', new RegExp(`schema ${SCHEMA_VERSION + 1}.*update the app`));
  });

  it('an archive whose database is not a project', async () => {
    const junk = Buffer.alloc(8192, 7);
    const m = { ...withoutModels(manifest), files: [{ name: 'project.sqlite', bytes: junk.length, sha256: createHash('sha256').update(junk).digest('hex') }] };
    const file = rawArchive(path.join(bad, 'junk.tgz'), [['manifest.json', Buffer.from(JSON.stringify(m))], ['project.sqlite', junk]]);
    await refused(file, 'project_corrupt', /junk\.tgz: .*project\.sqlite/);
  });
});

/** A project file with only the first `version` migrations, with a model, a run, a result and an image. */
function oldProject(file: string, version: number, modelSource: string): { png: Buffer } {
  const raw = new Database(file);
  for (const m of MIGRATIONS.slice(0, version)) raw.exec(m);
  raw.pragma(`application_id = ${APPLICATION_ID}`);
  raw.pragma(`user_version = ${version}`);
  const png = Buffer.from(encodePng(new Uint8Array(4 * 4 * 3).map((_, i) => (i * 37) % 256), 4, 4));
  raw.prepare(`INSERT INTO meta(key, value) VALUES ('created_at', '2025-01-01T00:00:00Z')`).run();
  raw
    .prepare(`INSERT INTO models(id, name, format, source, input_convention, created_at) VALUES ('old-net', 'Old net', 'onnx', ?, ?, '2025-01-01')`)
    .run(modelSource, JSON.stringify({ channelOrder: 'RGB', scale: 255, mean: [0, 0, 0], std: [1, 1, 1], inputSize: 224 }));
  raw
    .prepare(`INSERT INTO runs(id, kind, title, model_id, settings, seed, status, app_version, created_at) VALUES (1, 'max-image', 'old run', 'old-net', '{"layer":"conv1_1","channel":3}', 5, 'done', '0.1.0', '2025-01-01')`)
    .run();
  raw.prepare(`INSERT INTO results(id, run_id, key, data, created_at) VALUES (1, 1, 'unit/conv1_1/3', '{"layer":"conv1_1","channel":3,"activation":2.5}', '2025-01-01')`).run();
  raw.prepare(`INSERT INTO images(id, result_id, idx, name, width, height, png) VALUES (1, 1, 0, 'preferred', 4, 4, ?)`).run(png);
  raw.close();
  return { png };
}

function expectOldRows(db: ProjectDb, png: Buffer): void {
  expect(db.info()).toMatchObject({ schemaVersion: SCHEMA_VERSION, createdAt: '2025-01-01T00:00:00Z', counts: { models: 1, runs: 1, results: 1, images: 1 } });
  expect(db.getRun(1)).toMatchObject({ kind: 'max-image', status: 'done', seed: 5, settings: { layer: 'conv1_1', channel: 3 }, appVersion: '0.1.0' });
  expect(db.listResults(1)).toEqual([{ id: 1, runId: 1, key: 'unit/conv1_1/3', data: { layer: 'conv1_1', channel: 3, activation: 2.5 }, imageIds: [1] }]);
  expect(Buffer.compare(db.getImage(1)!.png, png)).toBe(0);
}

describe('projects of older schema versions', () => {
  const versions = Array.from({ length: SCHEMA_VERSION - 1 }, (_, i) => i + 1);

  it.each(versions)('a schema-%i file opens migrated to the current schema with its runs, results and images', (version) => {
    const file = path.join(dir, `old-v${version}.artiphys`);
    const { png } = oldProject(file, version, '/nowhere/old.onnx');
    const db = ProjectDb.open(file);
    try {
      expectOldRows(db, png);
    } finally {
      db.close();
    }
  });

  it('an archive made from a schema-1 file imports migrated, its model file unpacked and relinked', async () => {
    const work = path.join(dir, 'old-archive');
    fs.mkdirSync(work);
    const model = path.join(work, 'old.onnx');
    fs.copyFileSync(VGG_ONNX, model);
    const file = path.join(work, 'v1.artiphys');
    const { png } = oldProject(file, 1, model);
    const files = [{ name: 'project.sqlite', file }, { name: 'models/old.onnx', file: model }];
    const manifest = await manifestFor(files, { project: file, schemaVersion: 1, models: [{ source: model, file: 'models/old.onnx' }] });
    const oldArchive = path.join(work, 'v1.artiphys-archive');
    await writeArchive(oldArchive, manifest, files);

    const dest = path.join(work, 'migrated.artiphys');
    const info = await handlers['project.importArchive']({ archive: oldArchive, path: dest });
    expect(info.schemaVersion).toBe(SCHEMA_VERSION);
    expectOldRows(ctx.project, png);
    const source = ctx.project.getModel('old-net')!.source!;
    expect(source).toBe(path.join(importedModelsDir(dest), 'old.onnx'));
    expect(sha256(source)).toBe(sha256(model));
  });
});

describe('models with external data files', () => {
  const work = path.join(dir, 'external');
  const project = path.join(work, 'ext.artiphys');
  const modelDir = path.join(work, 'exported');
  const modelFile = path.join(modelDir, 'net.onnx');
  const packed = path.join(work, 'ext.artiphys-archive');

  beforeAll(async () => {
    fs.mkdirSync(path.join(modelDir, 'weights'), { recursive: true });
    const { model, data } = withExternalData(
      buildModel({ nodes: [{ op: 'Conv', inputs: ['x', 'w', 'b'], output: 'conv', attrs: { kernel_shape: ints([3, 3]) } }], inits: { w: weights([4, 3, 3, 3], 1), b: weights([4], 2) } }),
      'weights/net.bin',
    );
    fs.writeFileSync(modelFile, model);
    fs.writeFileSync(path.join(modelDir, 'weights', 'net.bin'), data);
    const db = ProjectDb.open(project, { create: true });
    db.addModel({
      id: 'net',
      name: 'net',
      format: 'onnx',
      source: modelFile,
      inputConvention: { channelOrder: 'RGB', scale: 255, mean: [0, 0, 0], std: [1, 1, 1], inputSize: 8 },
      layerCount: 1,
      layers: [{ name: 'conv', op: 'Conv', shape: [6, 6, 4], rf: { size: 3, jump: 1, offset: 1 } }],
    });
    await exportProjectArchive(db, packed);
    db.close();
  });

  it('travel with the model and land at the location it names, in a folder of its own; the copy loads', async () => {
    const manifest = JSON.parse(execFileSync('tar', ['-xzOf', packed, 'manifest.json'], { encoding: 'utf8' })) as ArchiveManifest;
    expect(manifest.formatVersion).toBe(2);
    expect(manifest.models).toEqual([{ source: modelFile, file: 'models/net.onnx', companions: [{ location: 'weights/net.bin', file: 'models/net.bin' }] }]);
    const dest = path.join(work, 'copy', 'imported.artiphys');
    const { modelFiles } = await importProjectArchive(packed, dest);
    const copied = path.join(importedModelsDir(dest), 'net', 'net.onnx');
    expect(modelFiles).toEqual([copied]);
    expect(sha256(path.join(path.dirname(copied), 'weights', 'net.bin'))).toBe(sha256(path.join(modelDir, 'weights', 'net.bin')));
    const copy = ProjectDb.open(dest);
    expect(copy.getModel('net')!.source).toBe(copied);
    copy.close();
    const original = parseOnnx(fs.readFileSync(modelFile), modelFile, { externalDataDir: modelDir });
    const unpacked = parseOnnx(fs.readFileSync(copied), copied, { externalDataDir: path.dirname(copied) });
    expect(unpacked.initializers).toEqual(original.initializers);
  });

  it('an archive whose manifest places a data file outside its model\'s folder is refused, leaving nothing', async () => {
    const unpacked = path.join(work, 'unpacked');
    fs.mkdirSync(unpacked);
    execFileSync('tar', ['-xzf', packed, '-C', unpacked]);
    const manifest = JSON.parse(fs.readFileSync(path.join(unpacked, 'manifest.json'), 'utf8')) as ArchiveManifest;
    const files = manifest.files.map((f) => ({ name: f.name, file: path.join(unpacked, f.name) }));
    const hostile = path.join(work, 'hostile.artiphys-archive');
    const models = [{ ...manifest.models[0], companions: [{ location: '../../escaped.bin', file: 'models/net.bin' }] }];
    await writeArchive(hostile, await manifestFor(files, { project, schemaVersion: manifest.schemaVersion, models }), files);
    const target = path.join(work, 'hostile-out');
    fs.mkdirSync(target);
    await expect(importProjectArchive(hostile, path.join(target, 'p.artiphys'))).rejects.toMatchObject({
      code: 'bad_request',
      message: expect.stringMatching(/file "\.\.\/\.\.\/escaped\.bin" of net\.onnx outside its model's folder/),
    });
    expect(listing(target)).toEqual([]);
    expect(fs.existsSync(path.join(work, 'escaped.bin'))).toBe(false);
  });
});

describe('TensorFlow.js graph models (model.json and its weight shards)', () => {
  const work = path.join(dir, 'tfjs');
  const project = path.join(work, 'tfjs.artiphys');
  const packed = path.join(work, 'tfjs.artiphys-archive');
  const convention: InputConvention = { channelOrder: 'RGB', scale: 255, mean: [0, 0, 0], std: [1, 1, 1], inputSize: 8 };
  /** Two convolutions, the first with uint8-quantized weights, as the tfjs converter writes them. */
  const spec = (seed: number): GraphModelSpec => ({
    input: [-1, 8, 8, 3],
    consts: { w1: floats([3, 3, 3, 4], seed, 0.5, 'uint8'), b1: floats([4], seed + 1), w2: floats([1, 1, 4, 2], seed + 2) },
    nodes: [
      { name: 'conv1', op: '_FusedConv2D', input: ['x', 'w1', 'b1'], attr: { padding: tfString('SAME'), strides: listI([1, 1, 1, 1]), dilations: listI([1, 1, 1, 1]), fused_ops: listS(['BiasAdd', 'Relu']), num_args: { i: '1' } } },
      { name: 'conv2', op: 'Conv2D', input: ['conv1', 'w2'], attr: { padding: tfString('VALID'), strides: listI([1, 1, 1, 1]), dilations: listI([1, 1, 1, 1]) } },
    ],
  });
  /** Writes model.json with its shard in a subfolder (as a path relative to model.json names it). */
  const writeModel = (folder: string, seed: number): string => {
    const { json, shard } = buildGraphModel(spec(seed), 'shards/group1-shard1of1.bin');
    fs.mkdirSync(path.join(folder, 'shards'), { recursive: true });
    fs.writeFileSync(path.join(folder, 'shards', 'group1-shard1of1.bin'), shard);
    fs.writeFileSync(path.join(folder, 'model.json'), JSON.stringify(json));
    return path.join(folder, 'model.json');
  };
  // Two models, both model.json with a shard of the same name: their entries and folders must not collide.
  const models = { a: path.join(work, 'net-a', 'model.json'), b: path.join(work, 'net-b', 'model.json') };

  /** conv2 of the model in `file` on seeded pixels. */
  async function outputOf(file: string): Promise<Float32Array> {
    const model = await loadModelFile(file, { inputConvention: convention });
    try {
      return tf.tidy(() => model.forward(tf.tensor4d(randomArray(2 * 8 * 8 * 3, 9), [2, 8, 8, 3]), ['conv2']).conv2.dataSync() as Float32Array);
    } finally {
      model.dispose();
    }
  }

  beforeAll(async () => {
    await initBackend();
    writeModel(path.dirname(models.a), 40);
    writeModel(path.dirname(models.b), 50);
    const db = ProjectDb.open(project, { create: true });
    for (const [id, source] of Object.entries(models)) {
      db.addModel({ id, name: `net ${id}`, format: 'tfjs', source, inputConvention: convention, layerCount: 2, layers: [{ name: 'conv2', op: 'Conv', shape: [8, 8, 2], rf: { size: 3, jump: 1, offset: 0 } }] });
    }
    await exportProjectArchive(db, packed);
    db.close();
  });

  it('the shards a model.json names are its companion files', () => {
    expect(modelCompanionFiles(models.a)).toEqual(['shards/group1-shard1of1.bin']);
  });

  it('travel with it, land where model.json names them, and the unpacked copy computes what the original does', async () => {
    const manifest = JSON.parse(execFileSync('tar', ['-xzOf', packed, 'manifest.json'], { encoding: 'utf8' })) as ArchiveManifest;
    expect(manifest.formatVersion).toBe(2);
    expect(manifest.models).toEqual([
      { source: models.a, file: 'models/model.json', companions: [{ location: 'shards/group1-shard1of1.bin', file: 'models/group1-shard1of1.bin' }] },
      { source: models.b, file: 'models/2-model.json', companions: [{ location: 'shards/group1-shard1of1.bin', file: 'models/2-group1-shard1of1.bin' }] },
    ]);
    const dest = path.join(work, 'copy', 'imported.artiphys');
    const { modelFiles } = await importProjectArchive(packed, dest);
    const unpacked = { a: path.join(importedModelsDir(dest), 'model', 'model.json'), b: path.join(importedModelsDir(dest), '2-model', '2-model.json') };
    expect(modelFiles).toEqual([unpacked.a, unpacked.b]);
    const copy = ProjectDb.open(dest);
    expect(Object.fromEntries(copy.listModels().map((m) => [m.id, m.source]))).toEqual(unpacked);
    copy.close();
    for (const id of ['a', 'b'] as const) {
      expect(sha256(path.join(path.dirname(unpacked[id]), 'shards', 'group1-shard1of1.bin'))).toBe(sha256(path.join(path.dirname(models[id]), 'shards', 'group1-shard1of1.bin')));
      const [original, copied] = [await outputOf(models[id]), await outputOf(unpacked[id])];
      expect(copied.length).toBe(2 * 8 * 8 * 2);
      expect(Array.from(copied), `model ${id}`).toEqual(Array.from(original));
    }
    // The two models differ, so equal outputs say each copy found its own shard.
    expect(Array.from(await outputOf(unpacked.a))).not.toEqual(Array.from(await outputOf(unpacked.b)));
  });

  it('an archive whose manifest names a shard it does not hold is refused naming it, writing nothing', async () => {
    const unpacked = path.join(work, 'unpacked');
    fs.mkdirSync(unpacked);
    execFileSync('tar', ['-xzf', packed, '-C', unpacked]);
    const manifest = JSON.parse(fs.readFileSync(path.join(unpacked, 'manifest.json'), 'utf8')) as ArchiveManifest;
    // The second model's shard left out of the archive and its file list, still named by the model.
    const files = manifest.files.filter((f) => f.name !== 'models/2-group1-shard1of1.bin').map((f) => ({ name: f.name, file: path.join(unpacked, f.name) }));
    const damaged = path.join(work, 'damaged.artiphys-archive');
    await writeArchive(damaged, await manifestFor(files, { project, schemaVersion: manifest.schemaVersion, models: manifest.models }), files);
    const target = path.join(work, 'damaged-out');
    fs.mkdirSync(target);
    await expect(importProjectArchive(damaged, path.join(target, 'p.artiphys'))).rejects.toMatchObject({
      code: 'project_corrupt',
      message: expect.stringMatching(/names models\/2-group1-shard1of1\.bin \(file "shards\/group1-shard1of1\.bin" of 2-model\.json\) but does not hold it/),
    });
    expect(listing(target)).toEqual([]);
  });

  it('an archive that places a shard on its own model file is refused, writing nothing', async () => {
    const unpacked = path.join(work, 'unpacked');
    const manifest = JSON.parse(fs.readFileSync(path.join(unpacked, 'manifest.json'), 'utf8')) as ArchiveManifest;
    const files = manifest.files.map((f) => ({ name: f.name, file: path.join(unpacked, f.name) }));
    const clash = path.join(work, 'clash.artiphys-archive');
    const models = [{ ...manifest.models[0], companions: [{ location: './model.json', file: 'models/group1-shard1of1.bin' }] }, manifest.models[1]];
    await writeArchive(clash, await manifestFor(files, { project, schemaVersion: manifest.schemaVersion, models }), files);
    const target = path.join(work, 'clash-out');
    fs.mkdirSync(target);
    await expect(importProjectArchive(clash, path.join(target, 'p.artiphys'))).rejects.toMatchObject({ code: 'bad_request', message: expect.stringMatching(/two files at the same path/) });
    expect(listing(target)).toEqual([]);
  });
});
