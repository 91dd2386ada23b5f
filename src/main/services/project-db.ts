// One project = one SQLite file. This module opens it safely (clear errors for every way a file
// can be wrong), applies migrations, and is the only code that writes SQL.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ApiError } from '../../shared/api/contract';
import type { ProjectInfo } from '../../shared/api/contract';
import type {
  InputConvention,
  LayerInfo,
  ModelDetail,
  ModelSummary,
  ResultRecord,
  RunProgress,
  RunStatus,
  RunSummary,
} from '../../shared/domain';
import { CurationDb } from './curation-db';
import { GalleryDb } from './gallery-db';
import { SweepDb } from './sweep-db';
import { APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION } from './migrations';
import { UnitIndex } from './unit-index';

export { PROJECT_EXTENSION } from './paths';

export interface NewRun {
  kind: string;
  title: string;
  modelId: string;
  settings: Record<string, unknown>;
  seed: number;
  appVersion: string;
}

export interface StoredImage {
  name: string;
  width: number;
  height: number;
  png: Uint8Array;
}

interface RunRow {
  id: number;
  kind: string;
  title: string;
  model_id: string;
  settings: string;
  seed: number;
  status: RunStatus;
  backend: string | null;
  app_version: string;
  progress_step: number;
  progress_total: number;
  eta_seconds: number | null;
  message: string | null;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  result_count: number;
}

const now = () => new Date().toISOString();

export class ProjectDb {
  /** Unit gallery reads and curation writes, on the same connection (set up once migrated). */
  private areas: { units: UnitIndex; gallery: GalleryDb; curation: CurationDb; sweeps: SweepDb } | null = null;

  private constructor(
    readonly path: string,
    private readonly db: Database.Database,
    /** The writer's lock (see open); null for a read-only connection. */
    private readonly lock: Database.Database | null,
  ) {}

  get gallery(): GalleryDb {
    return this.areas!.gallery;
  }

  get curation(): CurationDb {
    return this.areas!.curation;
  }

  get sweeps(): SweepDb {
    return this.areas!.sweeps;
  }

  /**
   * Opens an existing project (or creates one with `create`) for writing. One process at a time
   * writes a project: it holds an exclusive lock on a small file beside it (`<file>-lock`; the
   * operating system releases it when the process ends, however it ends), so a second writer gets
   * `project_locked` instead of a silent conflict. The database itself is in WAL mode with normal
   * locking, so other processes can read it meanwhile (`readOnly`).
   *
   * Nothing is written to a file before it is known to be an Artiphys project of a schema this
   * version reads: an ordinary SQLite file, an empty file or a damaged one is refused unchanged.
   */
  static open(file: string, opts: { create?: boolean; readOnly?: boolean } = {}): ProjectDb {
    const full = path.resolve(file);
    const exists = fs.existsSync(full);
    if (opts.create && exists) throw new ApiError('bad_request', `${full} already exists; open it instead`);
    if (!opts.create && !exists) throw new ApiError('not_found', `no project at ${full}`);
    if (!opts.create && fs.statSync(full).isFile() && fs.statSync(full).size === 0) {
      throw new ApiError('project_corrupt', `${full} is an empty file (0 bytes), not an Artiphys project`);
    }
    if (opts.readOnly) return ProjectDb.openReadOnly(full);
    if (opts.create) fs.mkdirSync(path.dirname(full), { recursive: true });
    else checkWritable(full);

    const lock = acquireWriterLock(full);
    let db: Database.Database;
    try {
      db = new Database(full, { timeout: 200 });
    } catch (err) {
      lock.close();
      throw translateSqliteError(err, full);
    }
    try {
      const project = new ProjectDb(full, db, lock);
      const version = opts.create ? 0 : project.checkIdentity();
      db.pragma('journal_mode = WAL');
      db.pragma('foreign_keys = ON');
      db.pragma('synchronous = NORMAL');
      project.migrate(version);
      return project;
    } catch (err) {
      db.close();
      lock.close();
      throw translateSqliteError(err, full);
    }
  }

  /** A read-only connection (no lock, no migration, no engine): for reading a project another process has open. */
  private static openReadOnly(full: string): ProjectDb {
    let db: Database.Database;
    try {
      db = new Database(full, { readonly: true, fileMustExist: true, timeout: 2000 });
    } catch (err) {
      throw translateSqliteError(err, full);
    }
    try {
      const project = new ProjectDb(full, db, null);
      const version = project.checkIdentity();
      if (version < SCHEMA_VERSION) {
        throw new ApiError('project_locked', `${full} has schema ${version} and needs upgrading, which only a process that opens it for writing can do`);
      }
      db.pragma('foreign_keys = ON');
      project.areas = { units: new UnitIndex(db), gallery: new GalleryDb(db), curation: new CurationDb(db), sweeps: new SweepDb(db, project) };
      return project;
    } catch (err) {
      db.close();
      throw translateSqliteError(err, full);
    }
  }

  /** True when this connection cannot write (a project another process holds). */
  get readOnly(): boolean {
    return this.db.readonly;
  }

  /**
   * Checks, reading only, that the file is an Artiphys project whose tables are those of the
   * schema version it is labelled with, and that this version reads it; returns that version.
   */
  private checkIdentity(): number {
    const appId = this.db.pragma('application_id', { simple: true }) as number;
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (appId !== APPLICATION_ID) {
      throw new ApiError('project_corrupt', `${this.path} is an SQLite file but not an Artiphys project`);
    }
    if (version > SCHEMA_VERSION) {
      throw new ApiError(
        'project_newer',
        `${this.path} was written by a newer Artiphys (schema ${version}, this version reads up to ${SCHEMA_VERSION}); update the app to open it`,
      );
    }
    const tables = new Set(
      (this.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map((r) => r.name),
    );
    const expected = tablesOfSchema(version);
    const missing = [...expected].filter((t) => !tables.has(t));
    if (missing.length > 0) {
      throw new ApiError('project_corrupt', `${this.path} is labelled schema ${version} but lacks its tables ${missing.join(', ')}; the file is damaged`);
    }
    const later = [...tablesOfSchema(SCHEMA_VERSION)].filter((t) => !expected.has(t) && tables.has(t));
    if (later.length > 0) {
      throw new ApiError(
        'project_corrupt',
        `${this.path} is labelled schema ${version} but already has tables of a later schema (${later.join(', ')}); its version label is wrong (damaged or edited by hand)`,
      );
    }
    return version;
  }

  private migrate(version: number): void {
    const upgrade = this.db.transaction(() => {
      for (let v = version; v < SCHEMA_VERSION; v++) this.db.exec(MIGRATIONS[v]);
      this.db.pragma(`application_id = ${APPLICATION_ID}`);
      this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
      if (version === 0) this.db.prepare(`INSERT INTO meta(key, value) VALUES ('created_at', ?)`).run(now());
    });
    if (version < SCHEMA_VERSION) {
      try {
        upgrade();
      } catch (err) {
        if (err instanceof ApiError) throw err;
        throw new ApiError('project_corrupt', `${this.path} could not be upgraded from schema ${version}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const check = this.db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new ApiError('project_corrupt', `${this.path} failed its integrity check: ${String(check)}`);
    this.areas = { units: new UnitIndex(this.db), gallery: new GalleryDb(this.db), curation: new CurationDb(this.db), sweeps: new SweepDb(this.db, this) };
    // Projects whose results predate the unit index (or an older index) get theirs built now.
    this.areas.units.ensureCurrent();
  }

  close(): void {
    if (this.db.open) this.db.close();
    if (this.lock?.open) this.lock.close();
  }

  /**
   * Writes a consistent copy of the project to `file` (which must not exist) while it stays open
   * and locked: VACUUM INTO reads through this connection, and keeps user_version and application_id.
   */
  snapshotTo(file: string): void {
    this.db.prepare(`VACUUM INTO ?`).run(file);
  }

  /** Points the models that use the file `from` at `to` (an imported archive's unpacked copy). */
  relocateModelFile(from: string, to: string): number {
    return this.db.prepare(`UPDATE models SET source = ? WHERE source = ?`).run(to, from).changes;
  }

  info(): ProjectInfo {
    const count = (table: string) => (this.db.prepare(`SELECT count(*) n FROM ${table}`).get() as { n: number }).n;
    const created = this.db.prepare(`SELECT value FROM meta WHERE key = 'created_at'`).get() as { value: string } | undefined;
    return {
      path: this.path,
      schemaVersion: this.db.pragma('user_version', { simple: true }) as number,
      createdAt: created?.value ?? '',
      counts: { models: count('models'), runs: count('runs'), results: count('results'), images: count('images') },
    };
  }

  // ---- models ----

  addModel(model: ModelDetail & { sha256?: string }): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO models(id, name, format, source, sha256, input_convention, random_seed, convention_guessed, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          model.id,
          model.name,
          model.format,
          model.source ?? null,
          model.sha256 ?? null,
          JSON.stringify(model.inputConvention),
          model.randomWeightsSeed ?? null,
          model.conventionGuessed ? 1 : 0,
          now(),
        );
      const layer = this.db.prepare(
        `INSERT INTO layers(model_id, idx, name, op, shape, rf_size, rf_jump, rf_offset) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      model.layers.forEach((l, i) =>
        layer.run(model.id, i, l.name, l.op, JSON.stringify(l.shape), l.rf?.size ?? null, l.rf?.jump ?? null, l.rf?.offset ?? null),
      );
    })();
  }

  listModels(): ModelSummary[] {
    const rows = this.db
      .prepare(
        `SELECT m.*, (SELECT count(*) FROM layers l WHERE l.model_id = m.id) layer_count FROM models m ORDER BY created_at`,
      )
      .all() as ModelRow[];
    return rows.map(toModelSummary);
  }

  getModel(id: string): ModelDetail | null {
    const row = this.db
      .prepare(`SELECT m.*, (SELECT count(*) FROM layers l WHERE l.model_id = m.id) layer_count FROM models m WHERE id = ?`)
      .get(id) as ModelRow | undefined;
    if (!row) return null;
    const layers = (
      this.db.prepare(`SELECT * FROM layers WHERE model_id = ? ORDER BY idx`).all(id) as LayerRow[]
    ).map(toLayerInfo);
    return { ...toModelSummary(row), layers };
  }

  /** Saving a convention is the user checking it: it is no longer marked as guessed. */
  setInputConvention(id: string, convention: InputConvention): void {
    const r = this.db
      .prepare(`UPDATE models SET input_convention = ?, convention_guessed = 0 WHERE id = ?`)
      .run(JSON.stringify(convention), id);
    if (r.changes === 0) throw new ApiError('not_found', `no model ${id} in this project`);
  }

  /**
   * Adds a copy of a project model (same file, convention and layers) under a new id, e.g. its
   * random-weights control.
   */
  copyModel(fromId: string, copy: { id: string; name: string; randomWeightsSeed: number | null }): void {
    this.db.transaction(() => {
      const r = this.db
        .prepare(
          `INSERT INTO models(id, name, format, source, sha256, input_convention, random_seed, convention_guessed, created_at)
           SELECT ?, ?, format, source, sha256, input_convention, ?, convention_guessed, ? FROM models WHERE id = ?`,
        )
        .run(copy.id, copy.name, copy.randomWeightsSeed, now(), fromId);
      if (r.changes === 0) throw new ApiError('not_found', `no model ${fromId} in this project`);
      this.db
        .prepare(
          `INSERT INTO layers(model_id, idx, name, op, shape, rf_size, rf_jump, rf_offset)
           SELECT ?, idx, name, op, shape, rf_size, rf_jump, rf_offset FROM layers WHERE model_id = ?`,
        )
        .run(copy.id, fromId);
    })();
  }

  // ---- runs ----

  createRun(run: NewRun): RunSummary {
    const r = this.db
      .prepare(
        `INSERT INTO runs(kind, title, model_id, settings, seed, status, app_version, created_at)
         VALUES (?, ?, ?, ?, ?, 'queued', ?, ?)`,
      )
      .run(run.kind, run.title, run.modelId, JSON.stringify(run.settings), run.seed, run.appVersion, now());
    return this.getRun(Number(r.lastInsertRowid))!;
  }

  getRun(id: number): RunSummary | null {
    const row = this.db.prepare(`${RUN_SELECT} WHERE r.id = ?`).get(id) as RunRow | undefined;
    return row ? toRunSummary(row) : null;
  }

  listRuns(limit = 200): RunSummary[] {
    return (this.db.prepare(`${RUN_SELECT} ORDER BY r.id DESC LIMIT ?`).all(limit) as RunRow[]).map(toRunSummary);
  }

  /** Removes a run; its results, images and gallery entries go with it (ON DELETE CASCADE). */
  deleteRun(id: number): void {
    this.db.prepare(`DELETE FROM runs WHERE id = ?`).run(id);
  }

  runsWithStatus(...statuses: RunStatus[]): RunSummary[] {
    const marks = statuses.map(() => '?').join(',');
    return (this.db.prepare(`${RUN_SELECT} WHERE r.status IN (${marks}) ORDER BY r.id`).all(...statuses) as RunRow[]).map(
      toRunSummary,
    );
  }

  markRunStarted(id: number, backend: string): void {
    this.db
      .prepare(
        `UPDATE runs SET status = 'running', backend = ?, attempts = attempts + 1, started_at = coalesce(started_at, ?), error = NULL WHERE id = ?`,
      )
      .run(backend, now(), id);
  }

  setRunProgress(id: number, p: RunProgress): void {
    this.db
      .prepare(`UPDATE runs SET progress_step = ?, progress_total = ?, eta_seconds = ?, message = ? WHERE id = ?`)
      .run(p.step, p.total, p.etaSeconds, p.message ?? null, id);
  }

  setRunStatus(id: number, status: RunStatus, error: string | null = null): void {
    const finished = status === 'done' || status === 'failed' || status === 'cancelled' ? now() : null;
    this.db
      .prepare(`UPDATE runs SET status = ?, error = ?, finished_at = ?, eta_seconds = NULL WHERE id = ?`)
      .run(status, error, finished, id);
  }

  addComputeSeconds(id: number, seconds: number): void {
    this.db.prepare(`UPDATE runs SET compute_seconds = compute_seconds + ? WHERE id = ?`).run(seconds, id);
  }

  saveCheckpoint(id: number, state: unknown): void {
    this.db.prepare(`UPDATE runs SET checkpoint = ? WHERE id = ?`).run(JSON.stringify(state), id);
  }

  loadCheckpoint(id: number): unknown | null {
    const row = this.db.prepare(`SELECT checkpoint FROM runs WHERE id = ?`).get(id) as { checkpoint: string | null } | undefined;
    return row?.checkpoint ? JSON.parse(row.checkpoint) : null;
  }

  /** Runs left 'running' by a process that died: they resume from their checkpoint. */
  markAbandonedRunsInterrupted(): number {
    return this.db.prepare(`UPDATE runs SET status = 'interrupted' WHERE status = 'running'`).run().changes;
  }

  // ---- results ----

  /**
   * Stores one finished part of a run with its images, atomically. A result re-emitted under the
   * same key (a resumed run redoing its last part) replaces the earlier one.
   */
  addResult(runId: number, key: string, data: Record<string, unknown>, images: StoredImage[]): ResultRecord {
    return this.db.transaction(() => {
      this.db.prepare(`DELETE FROM results WHERE run_id = ? AND key = ?`).run(runId, key);
      const r = this.db
        .prepare(`INSERT INTO results(run_id, key, data, created_at) VALUES (?, ?, ?, ?)`)
        .run(runId, key, JSON.stringify(data), now());
      const resultId = Number(r.lastInsertRowid);
      const insert = this.db.prepare(`INSERT INTO images(result_id, idx, name, width, height, png) VALUES (?, ?, ?, ?, ?, ?)`);
      const imageIds = images.map((img, i) =>
        Number(insert.run(resultId, i, img.name, img.width, img.height, Buffer.from(img.png)).lastInsertRowid),
      );
      this.areas!.units.indexResult(runId, resultId, key, data, imageIds.map((id, i) => ({ id, name: images[i].name })));
      return { id: resultId, runId, key, data, imageIds };
    })();
  }

  listResults(runId: number): ResultRecord[] {
    const rows = this.db
      .prepare(
        `SELECT r.id, r.run_id, r.key, r.data, (SELECT group_concat(i.id) FROM (SELECT id FROM images WHERE result_id = r.id ORDER BY idx) i) image_ids
         FROM results r WHERE r.run_id = ? ORDER BY r.id`,
      )
      .all(runId) as { id: number; run_id: number; key: string; data: string; image_ids: string | null }[];
    return rows.map((r) => ({
      id: r.id,
      runId: r.run_id,
      key: r.key,
      data: JSON.parse(r.data),
      imageIds: r.image_ids ? r.image_ids.split(',').map(Number) : [],
    }));
  }

  /** A stored image with the run whose result holds it. */
  getImage(id: number): { id: number; runId: number; width: number; height: number; png: Buffer } | null {
    return (
      (this.db.prepare(`SELECT i.id, r.run_id runId, i.width, i.height, i.png FROM images i JOIN results r ON r.id = i.result_id WHERE i.id = ?`).get(id) as
        | { id: number; runId: number; width: number; height: number; png: Buffer }
        | undefined) ?? null
    );
  }

  // ---- notes ----

  setNote(target: string, text: string): void {
    if (text === '') this.db.prepare(`DELETE FROM notes WHERE target = ?`).run(target);
    else
      this.db
        .prepare(`INSERT INTO notes(target, text, updated_at) VALUES (?, ?, ?) ON CONFLICT(target) DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at`)
        .run(target, text, now());
  }

  getNote(target: string): string {
    const row = this.db.prepare(`SELECT text FROM notes WHERE target = ?`).get(target) as { text: string } | undefined;
    return row?.text ?? '';
  }
}

const RUN_SELECT = `SELECT r.*, (SELECT count(*) FROM results x WHERE x.run_id = r.id) result_count FROM runs r`;

interface ModelRow {
  id: string;
  name: string;
  format: ModelSummary['format'];
  source: string | null;
  input_convention: string;
  random_seed: number | null;
  convention_guessed: number;
  layer_count: number;
}

interface LayerRow {
  name: string;
  op: string;
  shape: string;
  rf_size: number | null;
  rf_jump: number | null;
  rf_offset: number | null;
}

function toModelSummary(r: ModelRow): ModelSummary {
  return {
    id: r.id,
    name: r.name,
    format: r.format,
    ...(r.source ? { source: r.source } : {}),
    inputConvention: JSON.parse(r.input_convention),
    layerCount: r.layer_count,
    ...(r.random_seed !== null ? { randomWeightsSeed: r.random_seed } : {}),
    ...(r.convention_guessed ? { conventionGuessed: true } : {}),
  };
}

function toLayerInfo(r: LayerRow): LayerInfo {
  return {
    name: r.name,
    op: r.op,
    shape: JSON.parse(r.shape),
    ...(r.rf_size !== null ? { rf: { size: r.rf_size, jump: r.rf_jump!, offset: r.rf_offset! } } : {}),
  };
}

function toRunSummary(r: RunRow): RunSummary {
  return {
    id: r.id,
    kind: r.kind,
    title: r.title,
    modelId: r.model_id,
    status: r.status,
    seed: r.seed,
    settings: JSON.parse(r.settings),
    backend: r.backend,
    appVersion: r.app_version,
    progress: { step: r.progress_step, total: r.progress_total, etaSeconds: r.eta_seconds, ...(r.message ? { message: r.message } : {}) },
    error: r.error,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    resultCount: r.result_count,
  };
}

/** Tables (with FTS shadow tables) of each schema version, from the migrations run in memory. */
const schemaTables: Set<string>[] = [];
function tablesOfSchema(version: number): Set<string> {
  if (schemaTables.length === 0) {
    const mem = new Database(':memory:');
    try {
      const list = () => new Set((mem.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map((r) => r.name));
      schemaTables.push(list());
      for (const m of MIGRATIONS) {
        mem.exec(m);
        schemaTables.push(list());
      }
    } finally {
      mem.close();
    }
  }
  return schemaTables[version];
}

/**
 * Takes the writer's lock: an exclusive SQLite lock on `<file>-lock`, held until close. The lock
 * file stays beside the project (removing it could let two writers lock two different files).
 */
function acquireWriterLock(file: string): Database.Database {
  let lock: Database.Database | null = null;
  try {
    lock = new Database(`${file}-lock`, { timeout: 0 });
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.pragma('journal_mode = MEMORY');
    // The first write takes the exclusive lock; in EXCLUSIVE locking mode it is never released.
    lock.exec('BEGIN EXCLUSIVE');
    lock.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL, since TEXT NOT NULL)');
    lock.exec('DELETE FROM holder');
    lock.prepare('INSERT INTO holder(pid, since) VALUES (?, ?)').run(process.pid, now());
    lock.exec('COMMIT');
    return lock;
  } catch (err) {
    lock?.close();
    throw translateSqliteError(err, file);
  }
}

function checkWritable(file: string): void {
  try {
    fs.accessSync(file, fs.constants.R_OK | fs.constants.W_OK);
    fs.accessSync(path.dirname(file), fs.constants.W_OK);
    // access() always succeeds for root; a file with no write bit was made read-only on purpose.
    if ((fs.statSync(file).mode & 0o222) === 0) throw new Error('no write permission bits');
  } catch {
    throw new ApiError(
      'project_readonly',
      `${file} is read-only (or its folder is); Artiphys needs to write its project file and journal next to it`,
    );
  }
}

function translateSqliteError(err: unknown, file: string): Error {
  if (err instanceof ApiError) return err;
  const code = (err as { code?: string }).code ?? '';
  const msg = err instanceof Error ? err.message : String(err);
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
    return new ApiError('project_locked', `${file} is open in another Artiphys window or process; close it there first`);
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT')
    return new ApiError('project_corrupt', `${file} is not a readable Artiphys project (${msg})`);
  if (code === 'SQLITE_READONLY' || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_PERM')
    return new ApiError('project_readonly', `${file} cannot be opened for writing (${msg})`);
  return err instanceof Error ? err : new Error(msg);
}
