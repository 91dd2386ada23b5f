// Reads of the unit gallery: cards matching a query in the requested order, and one unit's full
// detail. Selection by model, layer, star, tag, collection and note text happens in SQL; the
// metric filters and sorts run over each card's latest values, so what a card shows is what it
// was filtered and sorted by.
import type Database from 'better-sqlite3';
import type { z } from 'zod';
import { ApiError, type galleryQuery } from '../../shared/api/contract';
import { isUnitMetric, UNIT_METRICS } from '../../shared/analyses/unit-metrics';
import { builtinModels } from '../../shared/builtin-models';
import type { GalleryPage, UnitCard, UnitDetail } from '../../shared/curation';

/** What a figure draws of one unit, each image and number with the run it came from. */
export interface FigureUnit {
  unitId: number;
  modelId: string;
  layer: string;
  channel: number;
  images: { imageId: number; runId: number }[];
  /** Latest value of each metric asked for that the unit has. */
  metrics: Record<string, { value: number; runId: number }>;
}

export type GalleryQueryParams = z.output<typeof galleryQuery>;

/** Thumbnails per card. */
const CARD_IMAGES = 4;

interface ImageRow {
  unitId: number;
  resultId: number;
  imageId: number;
  priority: number;
}

interface UnitRow {
  id: number;
  model_id: string;
  layer: string;
  channel: number;
  starred: number;
}

/** The SQL part of a query: a condition on `units u` and its arguments. */
interface Selection {
  where: string;
  args: (string | number)[];
}

export class GalleryDb {
  constructor(private readonly db: Database.Database) {}

  query(q: GalleryQueryParams): GalleryPage {
    for (const f of q.filters) checkMetric(f.metric, 'filters.metric');
    if (q.sort && q.sort.by !== 'layer' && q.sort.by !== 'channel') checkMetric(q.sort.by, 'sort.by');
    if (q.collectionId !== undefined) this.requireCollection(q.collectionId);
    const sel = this.selection(q);
    const units = this.db.prepare(`SELECT u.id, u.model_id, u.layer, u.channel, u.starred FROM units u WHERE ${sel.where}`).all(...sel.args) as UnitRow[];
    let cards = this.cards(units, sel);
    cards = cards.filter((c) => q.filters.every((f) => inRange(c.metrics[f.metric], f.min, f.max)));
    const ranks = this.layerRanks();
    return { cards: this.order(cards, q, ranks), ...this.overview(ranks) };
  }

  /** Every value and image a unit has, per run, and its collections. */
  unit(unitId: number): UnitDetail {
    const row = this.db.prepare(`SELECT id, model_id, layer, channel, starred FROM units WHERE id = ?`).get(unitId) as UnitRow | undefined;
    if (!row) throw new ApiError('not_found', `no unit ${unitId} in this project`);
    const [card] = this.cards([row], { where: 'u.id = ?', args: [unitId] });
    const runs = this.db
      .prepare(`SELECT DISTINCT x.id, x.kind, x.title FROM unit_results ur JOIN runs x ON x.id = ur.run_id WHERE ur.unit_id = ? ORDER BY x.id DESC`)
      .all(unitId) as { id: number; kind: string; title: string }[];
    const metrics = this.db
      .prepare(`SELECT run_id, metric, value FROM unit_metrics WHERE unit_id = ? ORDER BY run_id, result_id`)
      .all(unitId) as { run_id: number; metric: string; value: number }[];
    const images = this.db
      .prepare(
        `SELECT ui.run_id, ui.image_id, i.name FROM unit_images ui JOIN images i ON i.id = ui.image_id
         WHERE ui.unit_id = ? ORDER BY ui.run_id, ui.result_id, ui.idx`,
      )
      .all(unitId) as { run_id: number; image_id: number; name: string }[];
    const collections = this.db
      .prepare(`SELECT c.id, c.name FROM collection_units cu JOIN collections c ON c.id = cu.collection_id WHERE cu.unit_id = ? ORDER BY c.name`)
      .all(unitId) as { id: number; name: string }[];
    return {
      card,
      runs: runs.map((r) => ({
        runId: r.id,
        kind: r.kind,
        title: r.title,
        metrics: Object.fromEntries(metrics.filter((m) => m.run_id === r.id).map((m) => [m.metric, m.value])),
        images: images.filter((i) => i.run_id === r.id).map((i) => ({ imageId: i.image_id, name: i.name })),
      })),
      collections,
    };
  }

  /**
   * Units as a figure draws them, in the order given: up to `images` images each, in the order
   * a card shows its thumbnails (more of them when asked), and the latest value of `metrics`.
   */
  figureUnits(unitIds: number[], images: number, metrics: string[]): FigureUnit[] {
    for (const m of metrics) checkMetric(m, 'metrics');
    const unitRow = this.db.prepare(`SELECT id, model_id, layer, channel, starred FROM units WHERE id = ?`);
    const imageRows = this.db.prepare(
      `SELECT unit_id, result_id, image_id, priority, run_id FROM unit_images WHERE unit_id = ? ORDER BY result_id, idx`,
    );
    const metricRows = this.db.prepare(
      `SELECT metric, value, run_id FROM unit_metrics WHERE unit_id = ? AND metric IN (${metrics.map(() => '?').join(',') || 'NULL'}) ORDER BY result_id`,
    );
    const missing: number[] = [];
    const out: FigureUnit[] = [];
    for (const id of unitIds) {
      const row = unitRow.get(id) as UnitRow | undefined;
      if (!row) {
        missing.push(id);
        continue;
      }
      const stored = (images > 0 ? imageRows.all(id) : []) as { unit_id: number; result_id: number; image_id: number; priority: number; run_id: number }[];
      const runOf = new Map(stored.map((r) => [r.image_id, r.run_id]));
      const chosen = cardImages(
        stored.map((r) => ({ unitId: r.unit_id, resultId: r.result_id, imageId: r.image_id, priority: r.priority })),
        images,
      );
      const values: FigureUnit['metrics'] = {};
      // Ordered by result, so the latest value of each metric is written last.
      for (const m of metricRows.all(id, ...metrics) as { metric: string; value: number; run_id: number }[]) {
        values[m.metric] = { value: m.value, runId: m.run_id };
      }
      out.push({
        unitId: id,
        modelId: row.model_id,
        layer: row.layer,
        channel: row.channel,
        images: chosen.map((imageId) => ({ imageId, runId: runOf.get(imageId)! })),
        metrics: values,
      });
    }
    if (missing.length) throw new ApiError('not_found', `no unit ${missing.join(', ')} in this project`);
    return out;
  }

  private requireCollection(id: number): void {
    if (!this.db.prepare(`SELECT 1 FROM collections WHERE id = ?`).get(id)) throw new ApiError('not_found', `no collection ${id} in this project`);
  }

  private selection(q: GalleryQueryParams): Selection {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const add = (clause: string, arg: string | number) => {
      where.push(clause);
      args.push(arg);
    };
    if (q.modelId !== undefined) add('u.model_id = ?', q.modelId);
    if (q.layer !== undefined) add('u.layer = ?', q.layer);
    if (q.starred !== undefined) add('u.starred = ?', q.starred ? 1 : 0);
    if (q.tag !== undefined) {
      where.push('u.id IN (SELECT ut.unit_id FROM unit_tags ut JOIN tags t ON t.id = ut.tag_id WHERE t.name = ?)');
      args.push(q.tag);
    }
    if (q.collectionId !== undefined) {
      where.push('u.id IN (SELECT unit_id FROM collection_units WHERE collection_id = ?)');
      args.push(q.collectionId);
    }
    const match = q.search !== undefined ? ftsQuery(q.search) : null;
    if (match !== null) {
      where.push(
        `u.id IN (SELECT CAST(substr(target, 6) AS INTEGER) FROM notes_fts WHERE notes_fts MATCH ? AND target >= 'unit/' AND target < 'unit0')`,
      );
      args.push(match);
    }
    return { where: where.length ? where.join(' AND ') : '1', args };
  }

  /** Cards of the selected units, with their latest metrics, thumbnails, tags, notes and runs. */
  private cards(units: UnitRow[], sel: Selection): UnitCard[] {
    const byId = new Map<number, UnitCard>();
    for (const u of units) {
      byId.set(u.id, {
        unitId: u.id,
        modelId: u.model_id,
        layer: u.layer,
        channel: u.channel,
        starred: u.starred === 1,
        tags: [],
        note: '',
        metrics: {},
        imageIds: [],
        runIds: [],
      });
    }
    const selected = `IN (SELECT u.id FROM units u WHERE ${sel.where})`;
    const rows = (sql: string) => this.db.prepare(sql).raw().all(...sel.args) as [number, ...unknown[]][];
    // Rows come in the order results were stored, so the latest value of a metric is written last.
    for (const [id, metric, value] of rows(`SELECT unit_id, metric, value FROM unit_metrics WHERE unit_id ${selected} ORDER BY unit_id, result_id`)) {
      byId.get(id)!.metrics[metric as string] = value as number;
    }
    let images: ImageRow[] = [];
    const flush = () => {
      if (images.length) byId.get(images[0].unitId)!.imageIds = cardImages(images);
      images = [];
    };
    for (const [unitId, resultId, imageId, priority] of rows(
      `SELECT unit_id, result_id, image_id, priority FROM unit_images WHERE unit_id ${selected} ORDER BY unit_id, result_id, idx`,
    ) as [number, number, number, number][]) {
      if (images.length && images[0].unitId !== unitId) flush();
      images.push({ unitId, resultId, imageId, priority });
    }
    flush();
    for (const [id, tag] of rows(
      `SELECT ut.unit_id, t.name FROM unit_tags ut JOIN tags t ON t.id = ut.tag_id WHERE ut.unit_id ${selected} ORDER BY t.name`,
    )) {
      byId.get(id)!.tags.push(tag as string);
    }
    for (const [id, runId] of rows(`SELECT DISTINCT unit_id, run_id FROM unit_results WHERE unit_id ${selected} ORDER BY run_id DESC`)) {
      byId.get(id)!.runIds.push(runId as number);
    }
    const notes = this.db.prepare(`SELECT target, text FROM notes WHERE target >= 'unit/' AND target < 'unit0'`).raw().all() as [string, string][];
    for (const [target, text] of notes) {
      const card = byId.get(Number(target.slice(5)));
      if (card) card.note = text;
    }
    return [...byId.values()];
  }

  private order(cards: UnitCard[], q: GalleryQueryParams, rank: Map<string, number>): UnitCard[] {
    const byPlace = (a: UnitCard, b: UnitCard) =>
      (rank.get(`${a.modelId}\u0000${a.layer}`) ?? 0) - (rank.get(`${b.modelId}\u0000${b.layer}`) ?? 0) || a.channel - b.channel;
    const sort = q.sort;
    if (!sort) {
      if (q.collectionId === undefined) return cards.sort(byPlace);
      const position = new Map(
        (this.db.prepare(`SELECT unit_id, position FROM collection_units WHERE collection_id = ?`).raw().all(q.collectionId) as [number, number][]),
      );
      return cards.sort((a, b) => position.get(a.unitId)! - position.get(b.unitId)!);
    }
    const sign = sort.descending ? -1 : 1;
    if (sort.by === 'layer') return cards.sort((a, b) => sign * byPlace(a, b));
    if (sort.by === 'channel') return cards.sort((a, b) => sign * (a.channel - b.channel) || byPlace(a, b));
    const key = sort.by;
    // Units without the metric go last whichever the direction.
    return cards.sort((a, b) => {
      const va = a.metrics[key];
      const vb = b.metrics[key];
      if (va === undefined || vb === undefined) return (va === undefined ? 1 : 0) - (vb === undefined ? 1 : 0) || byPlace(a, b);
      return sign * (va - vb) || byPlace(a, b);
    });
  }

  /** Order of every (model, layer) with units: models by id, layers in network order where known. */
  private layerRanks(): Map<string, number> {
    const known = new Map<string, number>();
    for (const m of builtinModels()) m.layers.forEach((l, i) => known.set(`${m.id}\u0000${l.name}`, i));
    for (const [model, name, idx] of this.db.prepare(`SELECT model_id, name, idx FROM layers`).raw().all() as [string, string, number][]) {
      known.set(`${model}\u0000${name}`, idx);
    }
    const pairs = this.db.prepare(`SELECT DISTINCT model_id, layer FROM units`).raw().all() as [string, string][];
    pairs.sort(([ma, la], [mb, lb]) => {
      if (ma !== mb) return ma < mb ? -1 : 1;
      const ia = known.get(`${ma}\u0000${la}`);
      const ib = known.get(`${mb}\u0000${lb}`);
      if (ia !== undefined && ib !== undefined) return ia - ib;
      if (ia !== undefined || ib !== undefined) return ia !== undefined ? -1 : 1;
      return la.localeCompare(lb, 'en', { numeric: true });
    });
    return new Map(pairs.map(([m, l], i) => [`${m}\u0000${l}`, i]));
  }

  /** The toolbar's view of the whole project, whatever the query. */
  private overview(rank: Map<string, number>): Omit<GalleryPage, 'cards'> {
    const layers = (this.db.prepare(`SELECT model_id, layer, count(*) n FROM units GROUP BY model_id, layer`).all() as { model_id: string; layer: string; n: number }[])
      .sort((a, b) => rank.get(`${a.model_id}\u0000${a.layer}`)! - rank.get(`${b.model_id}\u0000${b.layer}`)!)
      .map((r) => ({ modelId: r.model_id, layer: r.layer, units: r.n }));
    const present = new Set(this.db.prepare(`SELECT DISTINCT metric FROM unit_metrics`).pluck().all() as string[]);
    return {
      totalUnits: layers.reduce((n, l) => n + l.units, 0),
      metrics: UNIT_METRICS.filter((m) => present.has(m.key)).map((m) => ({ key: m.key, label: m.label, kinds: [...m.kinds] })),
      layers,
      tags: this.db.prepare(`SELECT name FROM tags WHERE id IN (SELECT tag_id FROM unit_tags) ORDER BY name`).pluck().all() as string[],
    };
  }
}

/**
 * A card's thumbnails from one unit's images (in stored order per result): the first image of
 * each result (most telling analysis first, then the newest), then the second of each, and so on,
 * so a card shows every analysis before a second image of any. At most `count` images.
 */
function cardImages(rows: ImageRow[], count = CARD_IMAGES): number[] {
  const groups = new Map<number, ImageRow[]>();
  for (const r of rows) {
    const group = groups.get(r.resultId);
    if (group) group.push(r);
    else groups.set(r.resultId, [r]);
  }
  const ordered = [...groups.values()].sort((a, b) => a[0].priority - b[0].priority || b[0].resultId - a[0].resultId);
  const out: number[] = [];
  for (let k = 0; out.length < count && ordered.some((g) => k < g.length); k++) {
    for (const g of ordered) if (k < g.length && out.length < count) out.push(g[k].imageId);
  }
  return out;
}

function checkMetric(key: string, field: string): void {
  if (!isUnitMetric(key)) {
    throw new ApiError('bad_request', `gallery.query: ${field}: unknown metric "${key}"; known: ${UNIT_METRICS.map((m) => m.key).join(', ')}`);
  }
}

function inRange(v: number | undefined, min: number | undefined, max: number | undefined): boolean {
  return v !== undefined && (min === undefined || v >= min) && (max === undefined || v <= max);
}

/**
 * The user's words as an FTS5 query: every word must start a word of the note (prefix match), so
 * "tex edge" finds "texture at the edge"; quotes keep FTS5 syntax characters literal. Null when
 * the text has no word.
 */
export function ftsQuery(text: string): string | null {
  const words = text.split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  return words.length ? words.map((w) => `"${w.replace(/"/g, '""')}"*`).join(' ') : null;
}
