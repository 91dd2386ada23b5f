// Curation of units (stars, tags, notes, named collections) with an undo history kept in the
// project file. Every mutation is one step holding the operations that undo and redo it; the
// operations set state ("these units starred", "this collection exactly so"), so applying one
// twice changes nothing and undo restores exactly what was there.
import type Database from 'better-sqlite3';
import { ApiError } from '../../shared/api/contract';
import type { CollectionSummary, CurationStep } from '../../shared/curation';
import { plural } from '../../shared/plural';

interface CollectionState {
  id: number;
  name: string;
  createdAt: string;
  unitIds: number[];
}

type CurationOp =
  | { op: 'star'; unitIds: number[]; starred: boolean }
  | { op: 'tag'; tag: string; unitIds: number[]; present: boolean }
  | { op: 'note'; unitId: number; text: string }
  | { op: 'putCollection'; collection: CollectionState }
  | { op: 'deleteCollection'; id: number };

interface Step {
  description: string;
  undoDescription: string;
  undo: CurationOp[];
  redo: CurationOp[];
}

/** Steps kept; the oldest go first. */
const HISTORY_LIMIT = 1000;

export const unitNoteTarget = (unitId: number) => `unit/${unitId}`;
const now = () => new Date().toISOString();

export class CurationDb {
  constructor(private readonly db: Database.Database) {}

  star(unitIds: number[], starred: boolean): { changed: number } {
    return this.db.transaction(() => {
      const ids = this.requireUnits(unitIds);
      const current = new Map(this.unitRows(ids).map((r) => [r.id, r.starred === 1]));
      const changed = ids.filter((id) => current.get(id) !== starred);
      if (changed.length) {
        const what = this.unitsInWords(changed);
        this.record({
          description: `${starred ? 'starred' : 'unstarred'} ${what}`,
          undoDescription: `${starred ? 'unstarred' : 'starred'} ${what}`,
          redo: [{ op: 'star', unitIds: changed, starred }],
          undo: [{ op: 'star', unitIds: changed, starred: !starred }],
        });
      }
      return { changed: changed.length };
    })();
  }

  tag(unitIds: number[], tag: string, add: boolean): { changed: number } {
    return this.db.transaction(() => {
      const ids = this.requireUnits(unitIds);
      const tagged = new Set(
        this.db
          .prepare(`SELECT ut.unit_id FROM unit_tags ut JOIN tags t ON t.id = ut.tag_id WHERE t.name = ?`)
          .pluck()
          .all(tag) as number[],
      );
      const changed = ids.filter((id) => tagged.has(id) !== add);
      if (changed.length) {
        const what = this.unitsInWords(changed);
        const added = `added tag ${tag} to ${what}`;
        const removed = `removed tag ${tag} from ${what}`;
        this.record({
          description: add ? added : removed,
          undoDescription: add ? removed : added,
          redo: [{ op: 'tag', tag, unitIds: changed, present: add }],
          undo: [{ op: 'tag', tag, unitIds: changed, present: !add }],
        });
      }
      return { changed: changed.length };
    })();
  }

  note(unitId: number, text: string): { unitId: number; text: string } {
    return this.db.transaction(() => {
      this.requireUnits([unitId]);
      const before = this.noteOf(unitId);
      if (before !== text) {
        const what = `the note of ${this.unitsInWords([unitId])}`;
        this.record({
          description: text === '' ? `cleared ${what}` : `edited ${what}`,
          undoDescription: before === '' ? `cleared ${what}` : `restored ${what}`,
          redo: [{ op: 'note', unitId, text }],
          undo: [{ op: 'note', unitId, text: before }],
        });
      }
      return { unitId, text };
    })();
  }

  listCollections(): CollectionSummary[] {
    const rows = this.db.prepare(`SELECT id FROM collections ORDER BY name COLLATE NOCASE, id`).pluck().all() as number[];
    return rows.map((id) => toSummary(this.collection(id)!));
  }

  createCollection(name: string, unitIds: number[] = []): CollectionSummary {
    return this.db.transaction(() => {
      this.requireFreeName(name);
      const ids = this.requireUnits(unitIds);
      const id = Number(this.db.prepare(`INSERT INTO collections(name, created_at) VALUES (?, ?)`).run(name, now()).lastInsertRowid);
      const state: CollectionState = { ...this.collection(id)!, unitIds: ids };
      this.record({
        description: `created collection ${name}${ids.length ? ` with ${plural(ids.length, 'unit')}` : ''}`,
        undoDescription: `deleted collection ${name}`,
        redo: [{ op: 'putCollection', collection: state }],
        undo: [{ op: 'deleteCollection', id }],
      });
      return toSummary(state);
    })();
  }

  updateCollection(p: { collectionId: number; name?: string; add?: number[]; remove?: number[]; order?: number[] }): CollectionSummary {
    return this.db.transaction(() => {
      const before = this.requireCollection(p.collectionId);
      const after: CollectionState = { ...before, unitIds: [...before.unitIds] };
      const did: string[] = [];
      const undid: string[] = [];
      if (p.name !== undefined && p.name !== before.name) {
        if (p.name.toLowerCase() !== before.name.toLowerCase()) this.requireFreeName(p.name);
        after.name = p.name;
        did.push(`renamed collection ${before.name} to ${p.name}`);
        undid.push(`renamed collection ${p.name} back to ${before.name}`);
      }
      if (p.add?.length) {
        const added = this.requireUnits(p.add).filter((id) => !after.unitIds.includes(id));
        after.unitIds.push(...added);
        if (added.length) {
          did.push(`added ${plural(added.length, 'unit')} to collection ${after.name}`);
          undid.push(`removed ${plural(added.length, 'unit')} from collection ${after.name}`);
        }
      }
      if (p.remove?.length) {
        const gone = new Set(p.remove);
        const removed = after.unitIds.filter((id) => gone.has(id));
        after.unitIds = after.unitIds.filter((id) => !gone.has(id));
        if (removed.length) {
          did.push(`removed ${plural(removed.length, 'unit')} from collection ${after.name}`);
          undid.push(`put ${plural(removed.length, 'unit')} back into collection ${after.name}`);
        }
      }
      if (p.order) {
        const order = [...new Set(p.order)];
        const members = new Set(after.unitIds);
        if (order.length !== p.order.length || order.length !== members.size || !order.every((id) => members.has(id))) {
          throw new ApiError(
            'bad_request',
            `collections.update: order must list each of the collection's ${plural(members.size, 'unit')} once (after adding and removing)`,
          );
        }
        if (order.some((id, i) => id !== after.unitIds[i])) {
          after.unitIds = order;
          did.push(`reordered collection ${after.name}`);
          undid.push(`restored the order of collection ${after.name}`);
        }
      }
      if (did.length) {
        this.record({
          description: did.join('; '),
          undoDescription: undid.reverse().join('; '),
          redo: [{ op: 'putCollection', collection: after }],
          undo: [{ op: 'putCollection', collection: before }],
        });
      }
      return toSummary(after);
    })();
  }

  deleteCollection(id: number): { deleted: number } {
    return this.db.transaction(() => {
      const before = this.requireCollection(id);
      const what = `collection ${before.name} (${plural(before.unitIds.length, 'unit')})`;
      this.record({
        description: `deleted ${what}`,
        undoDescription: `restored ${what}`,
        redo: [{ op: 'deleteCollection', id }],
        undo: [{ op: 'putCollection', collection: before }],
      });
      return { deleted: id };
    })();
  }

  undo(): CurationStep {
    return this.db.transaction(() => {
      const row = this.db.prepare(`SELECT id, undo_description d, undo_ops ops FROM curation_log WHERE undone = 0 ORDER BY id DESC LIMIT 1`).get() as
        | { id: number; d: string; ops: string }
        | undefined;
      if (row) {
        this.apply(JSON.parse(row.ops) as CurationOp[]);
        this.db.prepare(`UPDATE curation_log SET undone = 1 WHERE id = ?`).run(row.id);
      }
      return this.stepResult(row?.d ?? null);
    })();
  }

  redo(): CurationStep {
    return this.db.transaction(() => {
      const row = this.db.prepare(`SELECT id, description d, redo_ops ops FROM curation_log WHERE undone = 1 ORDER BY id LIMIT 1`).get() as
        | { id: number; d: string; ops: string }
        | undefined;
      if (row) {
        this.apply(JSON.parse(row.ops) as CurationOp[]);
        this.db.prepare(`UPDATE curation_log SET undone = 0 WHERE id = ?`).run(row.id);
      }
      return this.stepResult(row?.d ?? null);
    })();
  }

  /** Whether an undo / redo is possible now. */
  history(): Omit<CurationStep, 'description'> {
    const has = (undone: number) => this.db.prepare(`SELECT 1 FROM curation_log WHERE undone = ? LIMIT 1`).get(undone) !== undefined;
    return { canUndo: has(0), canRedo: has(1) };
  }

  private stepResult(description: string | null): CurationStep {
    return { description, ...this.history() };
  }

  /** Applies a new step and records it; the redo side is gone from then on. */
  private record(step: Step): void {
    this.apply(step.redo);
    this.db.prepare(`DELETE FROM curation_log WHERE undone = 1`).run();
    this.db
      .prepare(`INSERT INTO curation_log(description, undo_description, undo_ops, redo_ops, created_at) VALUES (?, ?, ?, ?, ?)`)
      .run(step.description, step.undoDescription, JSON.stringify(step.undo), JSON.stringify(step.redo), now());
    this.db.prepare(`DELETE FROM curation_log WHERE id <= (SELECT max(id) FROM curation_log) - ?`).run(HISTORY_LIMIT);
  }

  private apply(ops: CurationOp[]): void {
    for (const op of ops) {
      switch (op.op) {
        case 'star': {
          const set = this.db.prepare(`UPDATE units SET starred = ? WHERE id = ?`);
          for (const id of op.unitIds) set.run(op.starred ? 1 : 0, id);
          break;
        }
        case 'tag':
          this.setTag(op.tag, op.unitIds, op.present);
          break;
        case 'note':
          this.setNote(op.unitId, op.text);
          break;
        case 'putCollection':
          this.putCollection(op.collection);
          break;
        case 'deleteCollection':
          this.db.prepare(`DELETE FROM collections WHERE id = ?`).run(op.id);
          break;
      }
    }
  }

  private setTag(tag: string, unitIds: number[], present: boolean): void {
    if (present) {
      this.db.prepare(`INSERT OR IGNORE INTO tags(name) VALUES (?)`).run(tag);
      const tagId = this.db.prepare(`SELECT id FROM tags WHERE name = ?`).pluck().get(tag) as number;
      const add = this.db.prepare(`INSERT OR IGNORE INTO unit_tags(unit_id, tag_id) VALUES (?, ?)`);
      for (const id of unitIds) add.run(id, tagId);
    } else {
      const drop = this.db.prepare(`DELETE FROM unit_tags WHERE unit_id = ? AND tag_id = (SELECT id FROM tags WHERE name = ?)`);
      for (const id of unitIds) drop.run(id, tag);
      // A tag no unit carries any more is gone, as it was before its first use.
      this.db.prepare(`DELETE FROM tags WHERE name = ? AND NOT EXISTS (SELECT 1 FROM unit_tags WHERE tag_id = tags.id)`).run(tag);
    }
  }

  private setNote(unitId: number, text: string): void {
    const target = unitNoteTarget(unitId);
    if (text === '') this.db.prepare(`DELETE FROM notes WHERE target = ?`).run(target);
    else
      this.db
        .prepare(
          `INSERT INTO notes(target, text, updated_at) VALUES (?, ?, ?)
           ON CONFLICT(target) DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at`,
        )
        .run(target, text, now());
  }

  private putCollection(c: CollectionState): void {
    this.db
      .prepare(`INSERT INTO collections(id, name, created_at) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name`)
      .run(c.id, c.name, c.createdAt);
    this.db.prepare(`DELETE FROM collection_units WHERE collection_id = ?`).run(c.id);
    const add = this.db.prepare(`INSERT INTO collection_units(collection_id, unit_id, position) VALUES (?, ?, ?)`);
    c.unitIds.forEach((unitId, i) => add.run(c.id, unitId, i));
  }

  private noteOf(unitId: number): string {
    return (this.db.prepare(`SELECT text FROM notes WHERE target = ?`).pluck().get(unitNoteTarget(unitId)) as string | undefined) ?? '';
  }

  private collection(id: number): CollectionState | null {
    const row = this.db.prepare(`SELECT id, name, created_at FROM collections WHERE id = ?`).get(id) as
      | { id: number; name: string; created_at: string }
      | undefined;
    if (!row) return null;
    const unitIds = this.db.prepare(`SELECT unit_id FROM collection_units WHERE collection_id = ? ORDER BY position`).pluck().all(id) as number[];
    return { id: row.id, name: row.name, createdAt: row.created_at, unitIds };
  }

  private requireCollection(id: number): CollectionState {
    const c = this.collection(id);
    if (!c) throw new ApiError('not_found', `no collection ${id} in this project`);
    return c;
  }

  private requireFreeName(name: string): void {
    const clash = this.db.prepare(`SELECT name FROM collections WHERE name = ? COLLATE NOCASE`).pluck().get(name) as string | undefined;
    if (clash !== undefined) throw new ApiError('bad_request', `a collection named "${clash}" exists already; choose another name`);
  }

  /** The ids without repeats, in the order given; not_found naming the ids that are no unit. */
  private requireUnits(unitIds: number[]): number[] {
    const ids = [...new Set(unitIds)];
    const known = new Set(this.unitRows(ids).map((r) => r.id));
    const missing = ids.filter((id) => !known.has(id));
    if (missing.length) {
      const list = missing.slice(0, 5).join(', ') + (missing.length > 5 ? ` and ${missing.length - 5} more` : '');
      throw new ApiError('not_found', `no unit ${list} in this project`);
    }
    return ids;
  }

  private unitRows(ids: number[]): { id: number; model_id: string; layer: string; channel: number; starred: number }[] {
    const rows: { id: number; model_id: string; layer: string; channel: number; starred: number }[] = [];
    const get = this.db.prepare(`SELECT id, model_id, layer, channel, starred FROM units WHERE id = ?`);
    for (const id of ids) {
      const r = get.get(id) as (typeof rows)[number] | undefined;
      if (r) rows.push(r);
    }
    return rows;
  }

  /** "conv3 channel 12" for one unit, "5 units" for more. */
  private unitsInWords(ids: number[]): string {
    if (ids.length !== 1) return plural(ids.length, 'unit');
    const [u] = this.unitRows(ids);
    return `${u.layer} channel ${u.channel}`;
  }
}

function toSummary(c: CollectionState): CollectionSummary {
  return { id: c.id, name: c.name, unitIds: [...c.unitIds], createdAt: c.createdAt };
}
