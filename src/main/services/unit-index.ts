// Keeps the unit index (units, unit_results, unit_metrics, unit_images) in step with stored
// results: each result is indexed in the transaction that stores it, and the whole index is
// rebuilt on open when the project predates it or its extractors changed (UNIT_INDEX_VERSION).
import type Database from 'better-sqlite3';
import { measuresUnits, unitEntries, UNIT_INDEX_VERSION, type ImageRef, type StoredResultView } from '../../shared/analyses/unit-entries';

interface RunInfo {
  kind: string;
  model_id: string;
}

export class UnitIndex {
  private readonly stmt: ReturnType<UnitIndex['prepare']>;

  constructor(private readonly db: Database.Database) {
    this.stmt = this.prepare();
  }

  private prepare() {
    const db = this.db;
    return {
      run: db.prepare(`SELECT kind, model_id FROM runs WHERE id = ?`),
      unit: db.prepare(
        `INSERT INTO units(model_id, layer, channel) VALUES (?, ?, ?)
         ON CONFLICT(model_id, layer, channel, y, x) DO UPDATE SET channel = excluded.channel RETURNING id`,
      ),
      link: db.prepare(`INSERT OR IGNORE INTO unit_results(unit_id, result_id, run_id) VALUES (?, ?, ?)`),
      metric: db.prepare(`INSERT OR REPLACE INTO unit_metrics(unit_id, result_id, run_id, metric, value) VALUES (?, ?, ?, ?, ?)`),
      image: db.prepare(
        `INSERT OR REPLACE INTO unit_images(unit_id, result_id, run_id, idx, image_id, priority) VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      sibling: db.prepare(`SELECT id, data FROM results WHERE run_id = ? AND key = ?`),
      images: db.prepare(`SELECT id, name FROM images WHERE result_id = ? ORDER BY idx`),
    };
  }

  /** Indexes one stored result; call inside the transaction that stores it. */
  indexResult(runId: number, resultId: number, key: string, data: Record<string, unknown>, images: readonly ImageRef[]): void {
    const run = this.stmt.run.get(runId) as RunInfo | undefined;
    if (!run || !measuresUnits(run.kind, key)) return;
    this.write(run, runId, resultId, { key, data, images });
  }

  /** Drops the index and builds it again from every stored result (curation stays: it hangs off units). */
  rebuild(): void {
    this.db.exec(`DELETE FROM unit_images; DELETE FROM unit_metrics; DELETE FROM unit_results;`);
    const rows = this.db
      .prepare(`SELECT r.id, r.run_id, r.key, x.kind, x.model_id FROM results r JOIN runs x ON x.id = r.run_id ORDER BY r.id`)
      .all() as { id: number; run_id: number; key: string; kind: string; model_id: string }[];
    const data = this.db.prepare(`SELECT data FROM results WHERE id = ?`).pluck();
    for (const r of rows) {
      if (!measuresUnits(r.kind, r.key)) continue;
      const view = { key: r.key, data: JSON.parse(data.get(r.id) as string), images: this.imagesOf(r.id) };
      this.write(r, r.run_id, r.id, view);
    }
    this.db.prepare(`INSERT OR REPLACE INTO meta(key, value) VALUES ('unit_index_version', ?)`).run(String(UNIT_INDEX_VERSION));
  }

  /** Rebuilds when the stored index is older than this app's extractors (or absent). */
  ensureCurrent(): void {
    const row = this.db.prepare(`SELECT value FROM meta WHERE key = 'unit_index_version'`).get() as { value: string } | undefined;
    if (row && Number(row.value) >= UNIT_INDEX_VERSION) return;
    this.db.transaction(() => this.rebuild())();
  }

  private imagesOf(resultId: number): ImageRef[] {
    return this.stmt.images.all(resultId) as ImageRef[];
  }

  private write(run: RunInfo, runId: number, resultId: number, result: StoredResultView): void {
    const entries = unitEntries(run.kind, result, {
      modelId: run.model_id,
      sibling: (key) => {
        const row = this.stmt.sibling.get(runId, key) as { id: number; data: string } | undefined;
        return row ? { key, data: JSON.parse(row.data), images: this.imagesOf(row.id) } : null;
      },
    });
    for (const e of entries) {
      const unitId = (this.stmt.unit.get(e.modelId, e.layer, e.channel) as { id: number }).id;
      this.stmt.link.run(unitId, resultId, runId);
      for (const [metric, value] of Object.entries(e.metrics)) this.stmt.metric.run(unitId, resultId, runId, metric, value);
      e.images.forEach((img, i) => this.stmt.image.run(unitId, resultId, runId, i, img.id, e.imagePriority));
    }
  }
}
