// gallery.query against a plain computation over the same stored results: filters, sorts, tag,
// star, collection and note search give exactly the units (in exactly the order) that a direct
// reading of the results says they should.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ProjectDb } from '../../../src/main/services/project-db';
import { ApiError, methodParams, type GalleryQuery } from '../../../src/shared/api/contract';
import type { UnitCard } from '../../../src/shared/curation';
import { createGalleryProject, GALLERY_MODEL_ID } from '../../fixtures/gallery-project';
import { tempDir } from '../../helpers/temp';

const dir = tempDir();
const UNITS = 300;
const OTHER = { modelId: 'net-b', layer: 'conv2', channels: 40 };

/** What the results say about one unit, read without the index. */
interface Expected {
  modelId: string;
  layer: string;
  channel: number;
  metrics: Record<string, number>;
}

let db: ProjectDb;
let expected: Expected[];
const idOf = new Map<string, number>();
const place = (u: { modelId: string; layer: string; channel: number }) => `${u.modelId}/${u.layer}/${u.channel}`;

function query(q: GalleryQuery): UnitCard[] {
  return db.gallery.query(methodParams['gallery.query'].parse(q)).cards;
}

/** Default order: models by id, then layers (one per model here), then channels. */
function byPlace(a: Expected, b: Expected): number {
  return a.modelId.localeCompare(b.modelId) || a.channel - b.channel;
}

function sortedBy(units: Expected[], metric: string, descending: boolean): Expected[] {
  const has = units.filter((u) => metric in u.metrics).sort((a, b) => (descending ? -1 : 1) * (a.metrics[metric] - b.metrics[metric]) || byPlace(a, b));
  return [...has, ...units.filter((u) => !(metric in u.metrics)).sort(byPlace)];
}

const places = (cards: UnitCard[]) => cards.map(place);
const placesOf = (units: Expected[]) => units.map(place);

/** Words as the note search sees them: letters and digits, case and accents folded. */
const words = (text: string) =>
  text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);

beforeAll(() => {
  const project = createGalleryProject(path.join(dir, 'q.artiphys'), { units: UNITS, layer: 'conv5' });
  db = ProjectDb.open(project.file);
  // A second model with a later feature-vis run, and a re-measurement of some fixture units.
  const run = db.createRun({ kind: 'feature-vis', title: 'fv b', modelId: OTHER.modelId, settings: {}, seed: 1, appVersion: 'test' });
  for (let c = 0; c < OTHER.channels; c++) db.addResult(run.id, `channel/${OTHER.layer}/${c}`, { layer: OTHER.layer, channel: c, activation: (c * 7) % 13 }, []);
  const again = db.createRun({ kind: 'feature-vis', title: 'fv again', modelId: GALLERY_MODEL_ID, settings: {}, seed: 1, appVersion: 'test' });
  for (let c = 0; c < 30; c++) db.addResult(again.id, `channel/conv5/${c}`, { layer: 'conv5', channel: c, activation: 100 + c }, []);

  // Expected values straight from the results, later runs overriding earlier ones.
  const byPlaceKey = new Map<string, Expected>();
  for (const r of db.listRuns().reverse()) {
    for (const res of db.listResults(r.id)) {
      const d = res.data;
      const modelId = r.modelId;
      const key = place({ modelId, layer: String(d.layer), channel: Number(d.channel) });
      const u = byPlaceKey.get(key) ?? { modelId, layer: String(d.layer), channel: Number(d.channel), metrics: {} };
      if (r.kind === 'feature-vis') u.metrics.fvActivation = d.activation as number;
      else for (const k of ['lambdaStar', 'diversityRatio', 'shiftInvariance', 'linearCombination']) if (typeof d[k] === 'number') u.metrics[k] = d[k] as number;
      byPlaceKey.set(key, u);
    }
  }
  expected = [...byPlaceKey.values()];
  for (const c of query({})) idOf.set(place(c), c.unitId);
});

describe('gallery.query', () => {
  it('lists every unit in model, layer, channel order with its latest values', () => {
    const cards = query({});
    expect(places(cards)).toEqual(placesOf([...expected].sort(byPlace)));
    const want = new Map(expected.map((u) => [place(u), u.metrics]));
    for (const c of cards) expect(c.metrics).toEqual(want.get(place(c)));
    expect(cards.find((c) => c.modelId === GALLERY_MODEL_ID && c.channel === 3)!.metrics.fvActivation).toBe(103);
    const page = db.gallery.query(methodParams['gallery.query'].parse({}));
    expect(page.totalUnits).toBe(UNITS + OTHER.channels);
    expect(page.layers).toEqual([
      { modelId: GALLERY_MODEL_ID, layer: 'conv5', units: UNITS },
      { modelId: OTHER.modelId, layer: OTHER.layer, units: OTHER.channels },
    ]);
  });

  it('sorts by any metric both ways, units without it last', () => {
    for (const metric of ['shiftInvariance', 'linearCombination', 'lambdaStar', 'fvActivation']) {
      for (const descending of [true, false]) {
        expect(places(query({ sort: { by: metric, descending } }))).toEqual(placesOf(sortedBy(expected, metric, descending)));
      }
    }
    expect(places(query({ sort: { by: 'channel', descending: false } }))).toEqual(
      placesOf([...expected].sort((a, b) => a.channel - b.channel || byPlace(a, b))),
    );
  });

  it('filters by metric ranges (a unit without the metric never passes), model and layer', () => {
    const filters = [
      { metric: 'shiftInvariance', min: 0.3, max: 0.7 },
      { metric: 'linearCombination', max: 1 },
    ];
    const want = expected.filter((u) => {
      const si = u.metrics.shiftInvariance;
      const lc = u.metrics.linearCombination;
      return si !== undefined && si >= 0.3 && si <= 0.7 && lc !== undefined && lc <= 1;
    });
    expect(want.length).toBeGreaterThan(10);
    expect(places(query({ filters, sort: { by: 'lambdaStar', descending: false } }))).toEqual(placesOf(sortedBy(want, 'lambdaStar', false)));
    expect(places(query({ modelId: OTHER.modelId }))).toEqual(placesOf(expected.filter((u) => u.modelId === OTHER.modelId).sort(byPlace)));
    expect(query({ layer: 'conv5' })).toHaveLength(UNITS);
    expect(query({ layer: 'conv5', modelId: OTHER.modelId })).toHaveLength(0);
    expect(query({ filters: [{ metric: 'fvActivation', min: 100 }] })).toHaveLength(30);
  });

  it('selects starred, tagged, collected and noted units', () => {
    const pick = (n: number, step: number) => expected.filter((_, i) => i % step === n).map((u) => idOf.get(place(u))!);
    const starred = pick(1, 7);
    const tagged = pick(2, 5);
    db.curation.star(starred, true);
    db.curation.tag(tagged, 'texture', true);
    db.curation.tag(tagged.slice(0, 3), 'curved edge', true);
    const cardIds = (q: GalleryQuery) => query(q).map((c) => c.unitId);
    const inDefaultOrder = (ids: number[]) => cardIds({}).filter((id) => ids.includes(id));
    expect(cardIds({ starred: true })).toEqual(inDefaultOrder(starred));
    expect(cardIds({ starred: false })).toEqual(cardIds({}).filter((id) => !starred.includes(id)));
    expect(cardIds({ tag: 'texture' })).toEqual(inDefaultOrder(tagged));
    expect(cardIds({ tag: 'curved edge', starred: true })).toEqual(inDefaultOrder(tagged.slice(0, 3).filter((id) => starred.includes(id))));
    expect(query({ tag: 'texture' }).every((c) => c.tags.includes('texture'))).toBe(true);

    // A collection lists its units in its own order unless a sort is asked for.
    const members = [tagged[4], starred[0], tagged[1]];
    const col = db.curation.createCollection('texture units conv3', members);
    expect(cardIds({ collectionId: col.id })).toEqual(members);
    const bySi = sortedBy(
      expected.filter((u) => members.includes(idOf.get(place(u))!)),
      'shiftInvariance',
      true,
    );
    expect(places(query({ collectionId: col.id, sort: { by: 'shiftInvariance', descending: true } }))).toEqual(placesOf(bySi));
    expect(db.gallery.query(methodParams['gallery.query'].parse({})).tags).toEqual(['curved edge', 'texture']);
  });

  it('finds notes by words and word starts, whatever the case and accents', () => {
    const notes = ['Texture unit, strong at the edges', 'edgy curvature', 'Größe matters; texture-ish', 'blob detector', 'TEXTURAL?'];
    const ids = expected.slice(10, 10 + notes.length).map((u) => idOf.get(place(u))!);
    ids.forEach((id, i) => db.curation.note(id, notes[i]));
    db.setNote('run/1', 'texture'); // a run's note is not a unit's
    for (const search of ['texture', 'tex', 'EDGE', 'tex edge', 'grosse', 'blob det', 'curv', 'nothing here', 'a"b*']) {
      const terms = words(search);
      const want = ids.filter((_, i) => terms.every((t) => words(notes[i]).some((w) => w.startsWith(t))));
      expect(query({ search }).map((c) => c.unitId).sort((a, b) => a - b), search).toEqual(want.sort((a, b) => a - b));
    }
    expect(query({ search: ' ' })).toHaveLength(expected.length);
    expect(query({ search: 'edges' })[0].note).toBe(notes[0]);
  });

  it('says which metric or collection is unknown', () => {
    expect(() => query({ sort: { by: 'beauty', descending: true } })).toThrow(/sort\.by: unknown metric "beauty"; known: lambdaStar/);
    expect(() => query({ filters: [{ metric: 'si', min: 0 }] })).toThrow(/filters\.metric: unknown metric "si"/);
    try {
      query({ collectionId: 999 });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).code).toBe('not_found');
      expect((err as ApiError).message).toBe('no collection 999 in this project');
    }
  });
});
