import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../src/shared/api/contract';
import { ProjectDb } from '../../../src/main/services/project-db';
import { SCHEMA_VERSION } from '../../../src/main/services/migrations';
import { tempDir } from '../../helpers/temp';

const dir = tempDir();
let n = 0;
const fresh = () => path.join(dir, `p${n++}.artiphys`);

function openError(file: string, opts?: { create?: boolean }): ApiError {
  try {
    ProjectDb.open(file, opts).close();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('expected the open to fail');
}

const newRun = { kind: 'max-image', title: 't', modelId: 'builtin:energy', settings: { steps: 3 }, seed: 7, appVersion: '0.0.0' };

describe('project database', () => {
  it('creates a project with the current schema, WAL and foreign keys', () => {
    const file = fresh();
    const db = ProjectDb.open(file, { create: true });
    expect(db.info().schemaVersion).toBe(SCHEMA_VERSION);
    db.close();
    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    raw.close();
  });

  it('stores runs, results with images, and keeps finished parts of a failed run', () => {
    const db = ProjectDb.open(fresh(), { create: true });
    const run = db.createRun(newRun);
    expect(run.status).toBe('queued');
    db.markRunStarted(run.id, 'cpu');
    const png = new Uint8Array([1, 2, 3]);
    db.addResult(run.id, 'part/1', { a: 1 }, [{ name: 'x', width: 1, height: 1, png }]);
    db.addResult(run.id, 'part/2', { a: 2 }, []);
    // a resumed run redoing part 2 replaces it rather than duplicating it
    db.addResult(run.id, 'part/2', { a: 3 }, []);
    db.setRunStatus(run.id, 'failed', 'boom');
    const results = db.listResults(run.id);
    expect(results.map((r) => [r.key, r.data.a])).toEqual([['part/1', 1], ['part/2', 3]]);
    expect(Array.from(db.getImage(results[0].imageIds[0])!.png)).toEqual([1, 2, 3]);
    const stored = db.getRun(run.id)!;
    expect(stored).toMatchObject({ status: 'failed', error: 'boom', resultCount: 2, backend: 'cpu', seed: 7 });
    expect(stored.settings).toEqual({ steps: 3 });
    db.close();
  });

  it('marks runs a dead process left running as interrupted when reopened', () => {
    const file = fresh();
    const db = ProjectDb.open(file, { create: true });
    const run = db.createRun(newRun);
    db.markRunStarted(run.id, 'cpu');
    db.saveCheckpoint(run.id, { step: 5 });
    db.close();
    const again = ProjectDb.open(file);
    expect(again.markAbandonedRunsInterrupted()).toBe(1);
    expect(again.getRun(run.id)!.status).toBe('interrupted');
    expect(again.loadCheckpoint(run.id)).toEqual({ step: 5 });
    again.close();
  });

  it('refuses a missing file, or creating over an existing one', () => {
    expect(openError(path.join(dir, 'nope.artiphys')).code).toBe('not_found');
    const file = fresh();
    ProjectDb.open(file, { create: true }).close();
    expect(openError(file, { create: true }).code).toBe('bad_request');
  });

  it('refuses a corrupt file and an SQLite file that is not a project, leaving both untouched', () => {
    const junk = fresh();
    const bytes = Buffer.from('this is not a database at all, just words. '.repeat(200));
    fs.writeFileSync(junk, bytes);
    const e = openError(junk);
    expect(e.code).toBe('project_corrupt');
    expect(e.message).toContain(junk);
    expect(fs.readFileSync(junk).equals(bytes)).toBe(true);

    const other = fresh();
    const raw = new Database(other);
    raw.exec('CREATE TABLE invoices(id INTEGER)');
    raw.close();
    expect(openError(other).code).toBe('project_corrupt');
  });

  it('refuses a project written by a newer version, without changing it', () => {
    const file = fresh();
    ProjectDb.open(file, { create: true }).close();
    const raw = new Database(file);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    raw.close();
    const e = openError(file);
    expect(e.code).toBe('project_newer');
    const check = new Database(file, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 5);
    check.close();
  });

  it('refuses a read-only project file', () => {
    const file = fresh();
    ProjectDb.open(file, { create: true }).close();
    fs.chmodSync(file, 0o444);
    expect(openError(file).code).toBe('project_readonly');
    fs.chmodSync(file, 0o644);
  });

  it('a second process cannot open a project that is open, and gets a clear error', () => {
    const file = fresh();
    const db = ProjectDb.open(file, { create: true });
    db.createRun(newRun);
    const script = `
      const D = require('better-sqlite3');
      const db = new D(${JSON.stringify(file)}, { timeout: 100 });
      try { db.prepare('SELECT count(*) FROM runs').get(); console.log('opened'); }
      catch (e) { console.log(e.code); }`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd: process.cwd() });
    expect(r.stdout.trim()).toBe('SQLITE_BUSY');
    // and through our own open, in this process, the message says what to do
    const e = openError(file);
    expect(e.code).toBe('project_locked');
    expect(e.message).toMatch(/another Artiphys/);
    db.close();
    ProjectDb.open(file).close(); // free again once closed
  });
});
