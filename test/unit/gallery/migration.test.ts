// A project written by an older Artiphys (schema 2: results but no unit index) opens with its
// units in the gallery: migration 3 runs and the index is built from the stored results. The
// index is also rebuilt when it is older than the app's extractors, keeping curation.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/engine/backend';
import { APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION } from '../../../src/main/services/migrations';
import { ProjectDb } from '../../../src/main/services/project-db';
import type { UnitCard } from '../../../src/shared/curation';
import { tempDir } from '../../helpers/temp';
import { runInto } from './helpers';

const dir = tempDir();
const TABLES = ['runs', 'results', 'images'] as const;

/** Cards without their unit ids (which the two projects number independently). */
const byPlace = (cards: UnitCard[]) => cards.map(({ unitId: _id, ...rest }) => rest);

let current: UnitCard[];
let oldFile: string;

beforeAll(async () => {
  await initBackend();
  // Real results, stored by this version...
  const srcFile = path.join(dir, 'src.artiphys');
  const src = ProjectDb.open(srcFile, { create: true });
  await runInto(src, 'feature-vis', { modelId: 'builtin:complex-cell', layer: 'subunits', channels: [0, 1, 2], steps: 4, size: 32 });
  await runInto(src, 'diverse', { modelId: 'builtin:energy', images: 2, lambdas: [0, 0.32], maxSteps: 8, indices: false });
  current = src.gallery.query({ filters: [] }).cards;
  src.close();

  // ...copied row by row into a file made with the schema-2 migrations, as an older version wrote it.
  oldFile = path.join(dir, 'old.artiphys');
  const old = new Database(oldFile);
  old.exec(MIGRATIONS[0]);
  old.exec(MIGRATIONS[1]);
  old.pragma(`application_id = ${APPLICATION_ID}`);
  old.pragma('user_version = 2');
  old.prepare(`INSERT INTO meta(key, value) VALUES ('created_at', ?)`).run(new Date().toISOString());
  old.exec(`ATTACH DATABASE '${srcFile}' AS src`);
  for (const t of TABLES) old.exec(`INSERT INTO ${t} SELECT * FROM src.${t}`);
  old.exec('DETACH DATABASE src');
  // A note an older version kept on a unit row it had made.
  old.prepare(`INSERT INTO units(model_id, layer, channel) VALUES ('builtin:energy', 'response', 0)`).run();
  old.prepare(`INSERT INTO notes(target, text, updated_at) VALUES ('unit/1', 'phase invariant, as expected', ?)`).run(new Date().toISOString());
  old.close();
}, 120_000);

describe('opening an older project', () => {
  it('migrates to the current schema and shows the units of its stored results', () => {
    const db = ProjectDb.open(oldFile);
    try {
      expect(db.info().schemaVersion).toBe(SCHEMA_VERSION);
      const cards = db.gallery.query({ filters: [] }).cards;
      expect(current.length).toBe(4);
      // Image ids were copied verbatim, so the cards match the ones this version indexed itself
      // (the pre-existing note aside).
      expect(byPlace(cards).map((c) => ({ ...c, note: '' }))).toEqual(byPlace(current));
      const energy = cards.find((c) => c.modelId === 'builtin:energy')!;
      expect(energy.unitId).toBe(1);
      expect(energy.note).toBe('phase invariant, as expected');
      expect(db.gallery.query({ filters: [], search: 'phase' }).cards.map((c) => c.unitId)).toEqual([1]);
    } finally {
      db.close();
    }
  });

  it('rebuilds an index older than the extractors on open, keeping stars and tags', () => {
    let db = ProjectDb.open(oldFile);
    const before = db.gallery.query({ filters: [] }).cards;
    db.curation.star([before[0].unitId], true);
    db.curation.tag([before[1].unitId], 'edge', true);
    const curated = db.gallery.query({ filters: [] }).cards;
    db.close();

    const raw = new Database(oldFile);
    raw.prepare(`UPDATE meta SET value = '0' WHERE key = 'unit_index_version'`).run();
    raw.exec(`DELETE FROM unit_metrics`); // what an older extractor would not have written
    raw.close();

    db = ProjectDb.open(oldFile);
    try {
      expect(db.gallery.query({ filters: [] }).cards).toEqual(curated);
    } finally {
      db.close();
    }
    expect(fs.existsSync(oldFile)).toBe(true);
  });
});
