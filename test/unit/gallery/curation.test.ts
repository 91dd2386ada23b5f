// Curation through the workbench's API (stars, tags, notes, collections) with undo and redo:
// undoing every step restores each earlier state exactly, redo replays, a new step clears the
// redo side, and the state and its history survive closing and reopening the project file.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forkEngine } from '../../../src/main/services/engine-process';
import { ProjectDb } from '../../../src/main/services/project-db';
import { Workbench } from '../../../src/main/services/workbench';
import { ApiError, type ApiEvent, type Method, type MethodResults, type Params } from '../../../src/shared/api/contract';
import { createGalleryProject } from '../../fixtures/gallery-project';
import { tempDir } from '../../helpers/temp';

const dir = tempDir();
let wb: Workbench;
let file: string;
const events: ApiEvent[] = [];
let u: number[] = [];

const call = <M extends Method>(method: M, params?: Params<M>) => wb.call({ method, params }) as Promise<MethodResults[M]>;

/** Everything curation can change, as the API shows it. */
async function state() {
  const page = await call('gallery.query', {});
  return {
    cards: page.cards.map((c) => ({ unitId: c.unitId, starred: c.starred, tags: c.tags, note: c.note })),
    tags: page.tags,
    collections: await call('collections.list', {}),
  };
}

async function failure(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  file = createGalleryProject(path.join(dir, 'c.artiphys'), { units: 12 }).file;
  wb = Workbench.open({ launcher: forkEngine, projectPath: file, backend: 'cpu' });
  wb.onEvent((e) => events.push(e));
  u = (await call('gallery.query', {})).cards.map((c) => c.unitId);
});

afterAll(() => wb?.close());

describe('curation with undo and redo', () => {
  const states: Awaited<ReturnType<typeof state>>[] = [];
  let collectionId = 0;

  it('records each mutation as one step and emits curation.changed', async () => {
    states.push(await state());
    const steps: [() => Promise<unknown>, unknown][] = [
      [() => call('curation.star', { unitIds: [u[0], u[1], u[2]], starred: true }), { changed: 3 }],
      [() => call('curation.star', { unitIds: [u[1], u[3]], starred: false }), { changed: 1 }],
      [() => call('curation.tag', { unitIds: [u[0], u[1]], tag: 'texture', add: true }), { changed: 2 }],
      [() => call('curation.tag', { unitIds: [u[1]], tag: 'texture', add: false }), { changed: 1 }],
      [() => call('curation.note', { unitId: u[0], text: 'first' }), { unitId: u[0], text: 'first' }],
      [() => call('curation.note', { unitId: u[0], text: 'second thoughts' }), { unitId: u[0], text: 'second thoughts' }],
      [() => call('collections.create', { name: 'texture units conv3', unitIds: [u[2], u[0]] }), { name: 'texture units conv3', unitIds: [u[2], u[0]] }],
      [
        () => call('collections.update', { collectionId, name: 'tex', add: [u[3], u[0]], remove: [u[2]], order: [u[3], u[0]] }),
        { name: 'tex', unitIds: [u[3], u[0]] },
      ],
      [() => call('collections.create', { name: 'Other' }), { name: 'Other', unitIds: [] }],
      [() => call('collections.delete', { collectionId }), { deleted: expect.any(Number) }],
    ];
    for (const [step, result] of steps) {
      const before = events.length;
      const out = (await step()) as { id?: number };
      if (!collectionId && out.id) collectionId = out.id;
      expect(out).toMatchObject(result as object);
      expect(events.slice(before)).toEqual([{ type: 'curation.changed' }]);
      states.push(await state());
    }
    const last = states.at(-1)!;
    expect(last.cards.filter((c) => c.starred).map((c) => c.unitId)).toEqual([u[0], u[2]]);
    expect(last.cards.find((c) => c.unitId === u[0])).toMatchObject({ tags: ['texture'], note: 'second thoughts' });
    expect(last.collections.map((c) => c.name)).toEqual(['Other']);
    expect((await call('units.get', { unitId: u[0] })).collections).toEqual([]);
  });

  it('does not record a mutation that changes nothing', async () => {
    expect(await call('curation.star', { unitIds: [u[0]], starred: true })).toEqual({ changed: 0 });
    expect(await call('curation.tag', { unitIds: [u[5]], tag: 'texture', add: false })).toEqual({ changed: 0 });
    expect(await state()).toEqual(states.at(-1));
  });

  it('undoes back to the start, each undo restoring the state before its step', async () => {
    const described: string[] = [];
    for (let i = states.length - 1; i > 0; i--) {
      const step = await call('curation.undo', {});
      expect(step.canRedo).toBe(true);
      expect(step.canUndo).toBe(i > 1);
      described.push(step.description!);
      expect(await state()).toEqual(states[i - 1]);
    }
    expect(described).toEqual([
      'restored collection tex (2 units)',
      'deleted collection Other',
      'restored the order of collection tex; put 1 unit back into collection tex; removed 1 unit from collection tex; renamed collection tex back to texture units conv3',
      'deleted collection texture units conv3',
      'restored the note of conv5 channel 0',
      'cleared the note of conv5 channel 0',
      'added tag texture to conv5 channel 1',
      'removed tag texture from 2 units',
      'starred conv5 channel 1',
      'unstarred 3 units',
    ]);
    expect(await call('curation.undo', {})).toEqual({ description: null, canUndo: false, canRedo: true });
    expect(await state()).toEqual(states[0]);
  });

  it('redoes step by step; a new step clears the redo side', async () => {
    for (let i = 1; i <= 7; i++) {
      const step = await call('curation.redo', {});
      expect(step.description).not.toBeNull();
      expect(await state()).toEqual(states[i]);
    }
    expect((await call('curation.redo', {})).canRedo).toBe(true);
    expect(await state()).toEqual(states[8]);
    await call('curation.star', { unitIds: [u[9]], starred: true });
    expect(await call('curation.redo', {})).toEqual({ description: null, canUndo: true, canRedo: false });
  });

  it('keeps the state and the undo history when the project is closed and reopened', async () => {
    const before = await state();
    wb.close();
    const db = ProjectDb.open(file);
    try {
      const cards = db.gallery.query({ filters: [] }).cards.map((c) => ({ unitId: c.unitId, starred: c.starred, tags: c.tags, note: c.note }));
      expect(cards).toEqual(before.cards);
      expect(db.curation.listCollections()).toEqual(before.collections);
      expect(db.curation.undo()).toEqual({ description: 'unstarred conv5 channel 9', canUndo: true, canRedo: true });
      expect(db.gallery.query({ filters: [] }).cards.map((c) => ({ unitId: c.unitId, starred: c.starred, tags: c.tags, note: c.note }))).toEqual(
        states[8].cards,
      );
      expect(db.curation.listCollections()).toEqual(states[8].collections);
    } finally {
      db.close();
    }
    wb = Workbench.open({ launcher: forkEngine, projectPath: file, backend: 'cpu' });
    expect(await state()).toEqual(states[8]);
  });

  it('refuses bad input with errors that name the problem, recording nothing', async () => {
    const history = await state();
    const cases: [Promise<unknown>, string, RegExp][] = [
      [call('curation.star', { unitIds: [u[0], 999_999, 888_888], starred: true }), 'not_found', /^no unit 999999, 888888 in this project$/],
      [call('curation.note', { unitId: 777_777, text: 'x' }), 'not_found', /no unit 777777/],
      [call('units.get', { unitId: 777_777 }), 'not_found', /no unit 777777/],
      [call('curation.tag', { unitIds: [u[0]], tag: '   ', add: true }), 'bad_request', /curation\.tag: tag/],
      [call('curation.star', { unitIds: [], starred: true }), 'bad_request', /unitIds/],
      [call('collections.create', { name: 'TEX' }), 'bad_request', /^a collection named "tex" exists already; choose another name$/],
      [call('collections.update', { collectionId: 424_242, name: 'x' }), 'not_found', /no collection 424242/],
      [call('collections.delete', { collectionId: 424_242 }), 'not_found', /no collection 424242/],
    ];
    for (const [p, code, message] of cases) {
      const err = await failure(p);
      expect(err.code).toBe(code);
      expect(err.message).toMatch(message);
    }
    const other = (await call('collections.list', {})).find((c) => c.name === 'tex')!;
    const second = await call('collections.create', { name: 'second', unitIds: [u[1]] });
    const renamed = await failure(call('collections.update', { collectionId: second.id, name: 'Tex' }));
    expect(renamed.code).toBe('bad_request');
    const badOrder = await failure(call('collections.update', { collectionId: other.id, order: [other.unitIds[0]] }));
    expect(badOrder.message).toMatch(/order must list each of the collection's 2 units once/);
    const unknownAdd = await failure(call('collections.update', { collectionId: other.id, add: [123_456] }));
    expect(unknownAdd.message).toBe('no unit 123456 in this project');
    // A failed update leaves the collection as it was; the one step recorded is the creation.
    expect((await call('collections.list', {})).find((c) => c.id === other.id)).toEqual(other);
    expect((await call('curation.undo', {})).description).toBe('deleted collection second');
    expect(await state()).toEqual(history);
  });

  it('renames a collection in another case and reorders it as one step', async () => {
    const col = (await call('collections.list', {})).find((c) => c.name === 'tex')!;
    const out = await call('collections.update', { collectionId: col.id, name: 'TEX', order: [...col.unitIds].reverse() });
    expect(out).toMatchObject({ name: 'TEX', unitIds: [...col.unitIds].reverse() });
    expect((await call('gallery.query', { collectionId: col.id })).cards.map((c) => c.unitId)).toEqual([...col.unitIds].reverse());
    expect((await call('curation.undo', {})).description).toBe('restored the order of collection TEX; renamed collection TEX back to tex');
    expect((await call('collections.list', {})).find((c) => c.id === col.id)).toEqual(col);
  });
});
