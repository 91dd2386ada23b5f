// Project archives (.artiphys-archive): one gzip'd tar with manifest.json first, a consistent
// snapshot of the project database (project.sqlite), and the model files the project's models
// were imported from (models/<file>), with the companion files a model needs beside it (a
// TensorFlow.js model's weight shards, an ONNX model's external data), unpacked into a folder of
// the model's own at the paths the model names. Import checks everything before anything lands
// beside the new project file, and never overwrites a file.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { z } from 'zod';
import { ApiError } from '../../shared/api/contract';
import { SCHEMA_VERSION } from '../services/migrations';
import { modelCompanionFiles } from '../engine/formats/companions';
import { externalDataPath, locationInside } from '../engine/formats/onnx-external';
import { ProjectDb } from '../services/project-db';
import { APP_VERSION } from '../version';
import { readTar, TAR_END, tarHeader, tarPadding } from './tar';

export const ARCHIVE_FORMAT = 'artiphys-archive';
/** Archives with companion files are version 2 (an older app would unpack models without them); others stay 1, as version 1 apps wrote them. */
export const ARCHIVE_FORMAT_VERSION = 2;
const MANIFEST = 'manifest.json';
const DATABASE = 'project.sqlite';

const manifestSchema = z.object({
  format: z.literal(ARCHIVE_FORMAT),
  formatVersion: z.number().int().positive(),
  appVersion: z.string(),
  schemaVersion: z.number().int().min(0),
  created: z.string(),
  /** Where the project was when archived (for the user's information). */
  project: z.string(),
  files: z.array(z.object({ name: z.string(), bytes: z.number().int().min(0), sha256: z.string().regex(/^[0-9a-f]{64}$/) })),
  /** Each distinct model file: the path the project used, and its entry (null: the file was missing when archived). */
  models: z.array(
    z.object({
      source: z.string(),
      file: z.string().nullable(),
      /** Files the model needs beside it (weight shards, external data): the path relative to the model's folder the model names, and the entry. */
      companions: z.array(z.object({ location: z.string(), file: z.string() })).optional(),
    }),
  ),
});
export type ArchiveManifest = z.infer<typeof manifestSchema>;

interface FileToPack {
  name: string;
  file: string;
}

/** sha256 and size of a file, streamed. */
async function hashFile(file: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of fs.createReadStream(file) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** A file name safe inside the archive and on any file system. */
function entryName(source: string, taken: Set<string>): string {
  const base = path.basename(source).replace(/[^A-Za-z0-9._+-]+/g, '_').replace(/^\.+/, '').slice(-80) || 'model';
  let name = `models/${base}`;
  for (let n = 2; taken.has(name); n++) name = `models/${n}-${base}`;
  taken.add(name);
  return name;
}

/**
 * Writes `files` (manifest first) through gzip to `out`, atomically: a partial file never sits
 * under the final name. Each file is hashed again while it is written, so a file that changes
 * between the manifest and the copy fails the export instead of giving a broken archive.
 */
export async function writeArchive(out: string, manifest: ArchiveManifest, files: FileToPack[]): Promise<number> {
  const manifestBytes = Buffer.from(JSON.stringify(manifest, null, 2) + '\n');
  const expected = new Map(manifest.files.map((f) => [f.name, f]));
  const mtime = Date.now() / 1000;
  async function* entries(): AsyncGenerator<Buffer> {
    yield tarHeader({ name: MANIFEST, size: manifestBytes.length }, mtime);
    yield manifestBytes;
    yield tarPadding(manifestBytes.length);
    for (const f of files) {
      const want = expected.get(f.name)!;
      yield tarHeader({ name: f.name, size: want.bytes }, mtime);
      const hash = createHash('sha256');
      let bytes = 0;
      for await (const chunk of fs.createReadStream(f.file) as AsyncIterable<Buffer>) {
        bytes += chunk.length;
        if (bytes > want.bytes) break;
        hash.update(chunk);
        yield chunk;
      }
      if (bytes !== want.bytes || hash.digest('hex') !== want.sha256) {
        throw new ApiError('bad_request', `${f.file} changed while the archive was being written; export again`);
      }
      yield tarPadding(bytes);
    }
    yield TAR_END;
  }
  const partial = `${out}.partial-${randomBytes(4).toString('hex')}`;
  try {
    await pipeline(Readable.from(entries()), zlib.createGzip(), fs.createWriteStream(partial, { flags: 'wx' }));
    fs.renameSync(partial, out);
  } catch (err) {
    fs.rmSync(partial, { force: true });
    throw err;
  }
  return fs.statSync(out).size;
}

/** A manifest for the given files (hashed here). */
export async function manifestFor(
  files: FileToPack[],
  info: { project: string; schemaVersion: number; models: ArchiveManifest['models'] },
): Promise<ArchiveManifest> {
  const listed: ArchiveManifest['files'] = [];
  for (const f of files) listed.push({ name: f.name, ...(await hashFile(f.file)) });
  return {
    format: ARCHIVE_FORMAT,
    formatVersion: info.models.some((m) => m.companions?.length) ? 2 : 1,
    appVersion: APP_VERSION,
    schemaVersion: info.schemaVersion,
    created: new Date().toISOString(),
    project: info.project,
    files: listed,
    models: info.models,
  };
}

/** Archives the open project: a snapshot of its database (it stays open) and its model files. */
export async function exportProjectArchive(project: ProjectDb, out: string): Promise<{ path: string; bytes: number; files: string[] }> {
  const target = path.resolve(out);
  if (target === project.path) throw new ApiError('bad_request', 'the archive cannot replace the project file itself');
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const work = fs.mkdtempSync(path.join(path.dirname(target), `.${path.basename(target)}.work-`));
  try {
    const snapshot = path.join(work, DATABASE);
    project.snapshotTo(snapshot);
    const taken = new Set<string>();
    const models: ArchiveManifest['models'] = [];
    const files: FileToPack[] = [{ name: DATABASE, file: snapshot }];
    const sources = [...new Set(project.listModels().flatMap((m) => (m.source ? [m.source] : [])))];
    for (const source of sources) {
      const present = fs.existsSync(source) && fs.statSync(source).isFile();
      const name = present ? entryName(source, taken) : null;
      if (!name) {
        models.push({ source, file: null });
        continue;
      }
      files.push({ name, file: source });
      const companions = companionFiles(source).map(({ location, file }) => {
        const entry = entryName(file, taken);
        files.push({ name: entry, file });
        return { location, file: entry };
      });
      models.push({ source, file: name, ...(companions.length ? { companions } : {}) });
    }
    const manifest = await manifestFor(files, { project: project.path, schemaVersion: project.info().schemaVersion, models });
    const bytes = await writeArchive(target, manifest, files);
    return { path: target, bytes, files: [MANIFEST, ...files.map((f) => f.name)] };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The companion files beside a model file (weight shards, external data), as the paths the model
 * names and where they are. One that cannot be used (outside the folder, missing) is left out:
 * the model does not load without it either, and says why when it is loaded.
 */
function companionFiles(modelFile: string): { location: string; file: string }[] {
  let locations: string[];
  try {
    locations = modelCompanionFiles(modelFile);
  } catch {
    return []; // a damaged file: archived as it is
  }
  // One entry per path: "a.bin" and "./a.bin" name one file, which import places once (the
  // model file itself is placed anyway).
  const byPath = new Map<string, { location: string; file: string }>();
  for (const location of locations) {
    const relative = locationInside(location);
    if (relative === null || byPath.has(relative) || relative === path.basename(modelFile)) continue;
    try {
      byPath.set(relative, { location, file: externalDataPath(path.dirname(modelFile), location) });
    } catch {
      // missing or outside: left out
    }
  }
  return [...byPath.values()];
}

/** Entry names an archive may hold: the manifest, the database, and plain file names under models/. */
function checkEntryName(name: string): void {
  const ok = name === MANIFEST || name === DATABASE || /^models\/[A-Za-z0-9_+-][A-Za-z0-9._+-]*$/.test(name);
  if (!ok) throw new ApiError('bad_request', `the archive holds an entry "${name}" outside what an Artiphys archive may hold (a path outside the archive, or an unknown file); refusing it`);
}

/** The models folder beside an imported project: `<dir>/<name>-models/`. */
export function importedModelsDir(projectFile: string): string {
  const stem = path.basename(projectFile).replace(/\.[^.]+$/, '');
  return path.join(path.dirname(projectFile), `${stem}-models`);
}

/** Unpacks the archive to a temporary folder beside `dir`, checking names and checksums. */
async function unpack(archive: string, staging: string): Promise<{ manifest: ArchiveManifest; files: Map<string, string> }> {
  const seen = new Map<string, { file: string; sha256: string; bytes: number }>();
  let openFd: number | null = null;
  const onEntry = ({ name, size }: { name: string; size: number }) => {
    if (seen.size === 0 && name !== MANIFEST) throw new ApiError('bad_request', `${archive} is not an Artiphys archive (its first entry is "${name}", not ${MANIFEST})`);
    checkEntryName(name);
    if (seen.has(name)) throw new ApiError('bad_request', `the archive holds "${name}" twice`);
    const file = path.join(staging, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const fd = fs.openSync(file, 'wx');
    openFd = fd;
    const hash = createHash('sha256');
    const record = { file, sha256: '', bytes: size };
    seen.set(name, record);
    return {
      write: (chunk: Buffer) => {
        hash.update(chunk);
        fs.writeSync(fd, chunk);
      },
      end: () => {
        fs.closeSync(fd);
        openFd = null;
        record.sha256 = hash.digest('hex');
      },
    };
  };
  // The reader's own error, kept because the pipeline reports the streams' abort instead.
  let refused: unknown = null;
  try {
    await pipeline(fs.createReadStream(archive), zlib.createGunzip(), (gunzipped: AsyncIterable<Buffer>) =>
      readTar(gunzipped, onEntry).catch((err: unknown) => {
        refused = err;
        throw err;
      }),
    );
  } catch (err) {
    throw archiveStreamError(refused ?? err, archive);
  } finally {
    if (openFd !== null) fs.closeSync(openFd);
  }
  const m = seen.get(MANIFEST);
  if (!m) throw new ApiError('bad_request', `${archive} is not an Artiphys archive (no ${MANIFEST})`);
  let manifest: ArchiveManifest;
  try {
    const raw = JSON.parse(fs.readFileSync(m.file, 'utf8')) as { formatVersion?: unknown };
    if (typeof raw.formatVersion === 'number' && raw.formatVersion > ARCHIVE_FORMAT_VERSION) {
      throw new ApiError('project_newer', `${archive} was written by a newer Artiphys (archive format ${raw.formatVersion}); update the app to import it`);
    }
    manifest = manifestSchema.parse(raw);
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError('bad_request', `${archive} is not an Artiphys archive (its ${MANIFEST} is not one)`);
  }
  if (manifest.schemaVersion > SCHEMA_VERSION) {
    throw new ApiError(
      'project_newer',
      `${archive} holds a project of a newer Artiphys (schema ${manifest.schemaVersion}, this version reads up to ${SCHEMA_VERSION}, app ${manifest.appVersion}); update the app to import it`,
    );
  }
  const files = new Map<string, string>();
  for (const f of manifest.files) {
    const got = seen.get(f.name);
    if (!got) throw new ApiError('project_corrupt', `the archive lacks ${f.name}, which its manifest lists`);
    if (got.bytes !== f.bytes || got.sha256 !== f.sha256) {
      throw new ApiError('checksum_mismatch', `${f.name} in the archive does not match its manifest checksum; the archive is damaged`);
    }
    files.set(f.name, got.file);
  }
  for (const name of seen.keys()) {
    if (name !== MANIFEST && !files.has(name)) throw new ApiError('bad_request', `the archive holds ${name}, which its manifest does not list`);
  }
  if (!files.has(DATABASE)) throw new ApiError('project_corrupt', `the archive holds no ${DATABASE}`);
  for (const model of manifest.models) {
    if (model.file !== null && !files.has(model.file)) throw new ApiError('project_corrupt', `the archive's manifest names model file ${model.file} but does not list it`);
  }
  return { manifest, files };
}

function archiveStreamError(err: unknown, archive: string): Error {
  if (err instanceof ApiError) return err;
  const code = (err as { code?: string }).code;
  if (code === 'Z_DATA_ERROR') return new ApiError('bad_request', `${archive} is not an Artiphys archive (not gzip data, or damaged)`);
  if (code === 'Z_BUF_ERROR') return new ApiError('project_corrupt', `${archive} is truncated (the compressed data ends early)`);
  if (code === 'ENOENT') return new ApiError('not_found', `no archive at ${archive}`);
  if (code === 'EISDIR') return new ApiError('bad_request', `${archive} is a folder, not an archive`);
  return err instanceof Error ? err : new Error(String(err));
}

/** The unpacked database, opened (and so migrated and checked); errors name the archive, not the temporary file. */
function openStaged(staged: string, archive: string): ProjectDb {
  try {
    return ProjectDb.open(staged);
  } catch (err) {
    if (err instanceof ApiError) throw new ApiError(err.code, `${archive}: ${err.message.split(staged).join(`its ${DATABASE}`)}`);
    throw err;
  }
}

/** A file moved to `to`, failing if something is there already. */
function placeNew(from: string, to: string): void {
  try {
    fs.linkSync(from, to); // fails with EEXIST instead of replacing
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'EEXIST') throw new ApiError('bad_request', `${to} already exists; choose another name`);
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP') throw err;
    fs.copyFileSync(from, to, fs.constants.COPYFILE_EXCL);
  }
}

type ArchivedModel = ArchiveManifest['models'][number] & { file: string };
type Move = { source: string | null; from: string; to: string };

/**
 * Where a model's files go: the model file into the models folder, or, with companion files, into
 * a folder of its own with each companion at the path the model names (checked to stay inside:
 * the manifest comes from the archive). `source` is set for the model file, null for companions.
 */
function modelMoves(m: ArchivedModel, files: Map<string, string>, modelsDir: string): Move[] {
  const name = path.basename(m.file);
  if (!m.companions?.length) return [{ source: m.source, from: files.get(m.file)!, to: path.join(modelsDir, name) }];
  const folder = path.join(modelsDir, name.replace(/\.[^.]+$/, '') || name);
  return [
    { source: m.source, from: files.get(m.file)!, to: path.join(folder, name) },
    ...m.companions.map((c) => {
      const relative = locationInside(c.location);
      if (relative === null) throw new ApiError('bad_request', `the archive places file "${c.location}" of ${name} outside its model's folder; refusing it`);
      const from = files.get(c.file);
      if (!from) throw new ApiError('project_corrupt', `the archive's manifest names ${c.file} (file "${c.location}" of ${name}) but does not hold it; the archive is damaged`);
      return { source: null, from, to: path.join(folder, relative) };
    }),
  ];
}

/** Refuses moves that would land two files on one path, or a file where another needs a folder. */
function checkDistinctTargets(moves: readonly Move[]): void {
  const targets = new Set(moves.map((m) => m.to));
  if (targets.size < moves.length) throw new ApiError('bad_request', 'the archive places two files at the same path; the archive is damaged');
  for (const to of targets) {
    for (let dir = path.dirname(to); dir !== path.dirname(dir); dir = path.dirname(dir)) {
      if (targets.has(dir)) throw new ApiError('bad_request', `the archive places a file at ${dir} and another inside it; the archive is damaged`);
    }
  }
}

/**
 * Unpacks an archive into a new project file `dest` (its model files into `<name>-models/` beside
 * it), migrating the database if it is older and pointing its models at the unpacked files.
 * Returns the project file's path; on any failure nothing is left behind.
 */
export async function importProjectArchive(archive: string, dest: string): Promise<{ path: string; modelFiles: string[] }> {
  const source = path.resolve(archive);
  const target = path.resolve(dest);
  if (!fs.existsSync(source)) throw new ApiError('not_found', `no archive at ${source}`);
  if (fs.existsSync(target)) throw new ApiError('bad_request', `${target} already exists; import into a new project file`);
  // The first folder this import creates, removed again if it fails.
  const madeDir = fs.mkdirSync(path.dirname(target), { recursive: true }) ?? null;
  const staging = fs.mkdtempSync(path.join(path.dirname(target), `.${path.basename(target)}.import-`));
  const placed: string[] = [];
  let modelsDirMade: string | null = null;
  const madeDirs: string[] = [];
  try {
    const { manifest, files } = await unpack(source, staging);
    const modelsDir = importedModelsDir(target);
    const moves = manifest.models.flatMap((m) => (m.file === null ? [] : modelMoves(m as ArchivedModel, files, modelsDir)));
    checkDistinctTargets(moves);
    for (const move of moves) if (fs.existsSync(move.to)) throw new ApiError('bad_request', `${move.to} already exists; import into another folder or project name`);

    // Open (and so migrate and check) the staged database before anything lands beside `dest`.
    const staged = files.get(DATABASE)!;
    const db = openStaged(staged, source);
    try {
      for (const move of moves) if (move.source !== null) db.relocateModelFile(move.source, move.to);
    } finally {
      db.close();
    }
    if (moves.length && !fs.existsSync(modelsDir)) {
      fs.mkdirSync(modelsDir);
      modelsDirMade = modelsDir;
    }
    for (const move of moves) {
      // A model with companion files has a folder of its own, perhaps with subfolders.
      const made = fs.mkdirSync(path.dirname(move.to), { recursive: true });
      if (made) madeDirs.push(made);
      placeNew(move.from, move.to);
      placed.push(move.to);
    }
    placeNew(staged, target);
    placed.push(target);
    return { path: target, modelFiles: moves.flatMap((m) => (m.source !== null ? [m.to] : [])) };
  } catch (err) {
    for (const file of placed) fs.rmSync(file, { force: true });
    for (const made of madeDirs) fs.rmSync(made, { recursive: true, force: true });
    if (modelsDirMade) fs.rmSync(modelsDirMade, { recursive: true, force: true });
    fs.rmSync(staging, { recursive: true, force: true });
    if (madeDir) fs.rmSync(madeDir, { recursive: true, force: true });
    throw err;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}
