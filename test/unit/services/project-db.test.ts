import { spawn, spawnSync } from 'node:child_process';
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

  it('a second process can read an open project but not open it for writing, and gets a clear error', () => {
    const file = fresh();
    const db = ProjectDb.open(file, { create: true });
    db.createRun(newRun);
    // Another process reads it (WAL, normal locking) ...
    const read = `
      const D = require('better-sqlite3');
      const db = new D(${JSON.stringify(file)}, { readonly: true, timeout: 100 });
      try { console.log(db.prepare('SELECT count(*) n FROM runs').get().n); }
      catch (e) { console.log(e.code); }`;
    expect(spawnSync(process.execPath, ['-e', read], { encoding: 'utf8', cwd: process.cwd() }).stdout.trim()).toBe('1');
    // ... but cannot take the writer's lock.
    const write = `
      const D = require('better-sqlite3');
      const db = new D(${JSON.stringify(`${file}-lock`)}, { timeout: 100 });
      try { db.exec('BEGIN EXCLUSIVE'); console.log('locked'); }
      catch (e) { console.log(e.code); }`;
    expect(spawnSync(process.execPath, ['-e', write], { encoding: 'utf8', cwd: process.cwd() }).stdout.trim()).toBe('SQLITE_BUSY');
    // and through our own open, in this process, the message says what to do
    const e = openError(file);
    expect(e.code).toBe('project_locked');
    expect(e.message).toMatch(/another Artiphys/);
    // A read-only open works meanwhile, sees the writer's rows and cannot write.
    const reader = ProjectDb.open(file, { readOnly: true });
    expect(reader.readOnly).toBe(true);
    expect(reader.listRuns().length).toBe(1);
    db.createRun(newRun);
    expect(reader.listRuns().length).toBe(2);
    expect(() => reader.createRun(newRun)).toThrow(/readonly/i);
    reader.close();
    db.close();
    ProjectDb.open(file).close(); // free again once closed
  });

  it('the writer lock goes with the process that held it, however it ended', () => {
    const file = fresh();
    ProjectDb.open(file, { create: true }).close();
    const holder = `
      import { ProjectDb } from ${JSON.stringify(path.resolve('src/main/services/project-db.ts'))};
      // Kept referenced: a collected connection would be closed, and its lock with it.
      const project = ProjectDb.open(${JSON.stringify(file)});
      console.log('open');
      setInterval(() => project.path, 1000);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', holder], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
    return new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        if (!d.toString().includes('open')) return;
        try {
          expect(openError(file).code).toBe('project_locked');
        } catch (err) {
          child.kill('SIGKILL');
          reject(err);
          return;
        }
        child.kill('SIGKILL');
      });
      child.on('exit', () => {
        try {
          ProjectDb.open(file).close();
          resolve();
        } catch (err) {
          reject(err);
        }
      });
    });
  });

  it('refuses an ordinary SQLite file without switching it to WAL or writing to it', () => {
    const file = fresh();
    const raw = new Database(file);
    raw.exec('CREATE TABLE invoices(id INTEGER); INSERT INTO invoices VALUES (1)');
    raw.close();
    const bytes = fs.readFileSync(file);
    const e = openError(file);
    expect(e.code).toBe('project_corrupt');
    expect(e.message).toMatch(/not an Artiphys project/);
    expect(fs.readFileSync(file).equals(bytes)).toBe(true);
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
    const check = new Database(file, { readonly: true });
    expect(check.pragma('journal_mode', { simple: true })).toBe('delete');
    check.close();
    // The same for an SQLite file that has no tables at all.
    const blank = fresh();
    const b = new Database(blank);
    b.pragma('user_version = 0');
    b.exec('CREATE TABLE t(x); DROP TABLE t');
    b.close();
    expect(openError(blank).code).toBe('project_corrupt');
  });

  it('refuses an empty (0-byte) file instead of making it a project', () => {
    const file = fresh();
    fs.writeFileSync(file, '');
    const e = openError(file);
    expect(e.code).toBe('project_corrupt');
    expect(e.message).toMatch(/empty file \(0 bytes\)/);
    expect(fs.statSync(file).size).toBe(0);
  });

  it('refuses a file whose schema label does not match its tables, naming the mismatch', () => {
    const file = fresh();
    ProjectDb.open(file, { create: true }).close();
    const raw = new Database(file);
    raw.pragma('user_version = 2'); // a v3 file labelled 2: migration 3 would meet its own tables
    raw.close();
    const e = openError(file);
    expect(e.code).toBe('project_corrupt');
    expect(e.message).toMatch(/labelled schema 2 but already has tables of a later schema \(unit_results/);
    const check = new Database(file, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(2);
    check.exec('SELECT 1');
    check.close();
    // A file that lacks tables of its schema.
    const other = fresh();
    ProjectDb.open(other, { create: true }).close();
    const raw2 = new Database(other);
    raw2.exec('DROP TABLE collection_units');
    raw2.close();
    expect(openError(other).message).toMatch(/lacks its tables collection_units/);
  });
});
