// The gallery's units × metrics as a table: the same cards, in the same order, that gallery.query
// gives for the query, with curation (stars, tags, notes) and each metric as a column.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataExportHandlers } from '../../../src/main/services/handlers/data-export';
import { galleryHandlers } from '../../../src/main/services/handlers/gallery';
import { ProjectDb } from '../../../src/main/services/project-db';
import type { GalleryQuery } from '../../../src/shared/api/contract';
import { galleryQuery } from '../../../src/shared/api/contract';
import type { Provenance } from '../../../src/shared/figures';
import { createGalleryProject, type GalleryProject } from '../../fixtures/gallery-project';
import { tempDir } from '../../helpers/temp';
import { projectContext } from './context';

interface TableDoc {
  provenance: Provenance;
  columns: { key: string; label: string }[];
  rows: Record<string, unknown>[];
}

const dir = tempDir('artiphys-export-gallery-');
let fixture: GalleryProject;
let ctx: ReturnType<typeof projectContext>;
let handlers: ReturnType<typeof dataExportHandlers>;
let gallery: ReturnType<typeof galleryHandlers>;

const table = async (query: GalleryQuery): Promise<TableDoc> => {
  const file = await handlers['export.table']({ format: 'json', query: galleryQuery.parse(query) });
  return JSON.parse(Buffer.from(file.base64, 'base64').toString('utf8')) as TableDoc;
};

beforeAll(() => {
  fixture = createGalleryProject(path.join(dir, 'gallery.artiphys'), { units: 60, layer: 'conv4' });
  ctx = projectContext(ProjectDb.open(fixture.file));
  handlers = dataExportHandlers(ctx);
  gallery = galleryHandlers(ctx);
});
afterAll(() => ctx.close());

describe('export.table of a gallery query', () => {
  it('has one row per card of the query, in its order, with identity, curation and metric columns', async () => {
    await gallery['curation.star']({ unitIds: [3, 5], starred: true });
    await gallery['curation.tag']({ unitIds: [5], tag: 'texture, "fine"', add: true });
    await gallery['curation.note']({ unitId: 5, text: 'two\nlines' });
    const query = galleryQuery.parse({ layer: 'conv4', filters: [{ metric: 'diversityRatio', min: 2 }], sort: { by: 'diversityRatio', descending: true } });
    const page = await gallery['gallery.query'](query);
    expect(page.cards.length).toBeGreaterThan(5);
    expect(page.cards.length).toBeLessThan(60);

    const doc = await table(query);
    expect(doc.columns.slice(0, 7).map((c) => c.key)).toEqual(['unitId', 'modelId', 'layer', 'channel', 'starred', 'tags', 'note']);
    expect(doc.columns.slice(7)).toEqual(page.metrics.map((m) => ({ key: m.key, label: m.label })));
    expect(doc.rows.map((r) => r.unitId)).toEqual(page.cards.map((c) => c.unitId));
    for (const [i, card] of page.cards.entries()) {
      const row = doc.rows[i];
      expect(row).toMatchObject({ modelId: card.modelId, layer: 'conv4', channel: card.channel, starred: card.starred, tags: card.tags.join(';'), note: card.note });
      for (const m of page.metrics) expect(row[m.key]).toBe(card.metrics[m.key] ?? null);
    }
    const diversity = doc.rows.map((r) => r.diversityRatio as number);
    expect(diversity).toEqual([...diversity].sort((a, b) => b - a));
    expect(diversity.every((d) => d >= 2)).toBe(true);
    const whole = await table({ layer: 'conv4' });
    expect(whole.rows).toHaveLength(60);
    expect(whole.rows.find((r) => r.unitId === 5)).toMatchObject({ starred: true, tags: 'texture, "fine"', note: 'two\nlines' });
    expect(whole.rows.find((r) => r.unitId === 3)).toMatchObject({ starred: true, tags: '', note: '' });
    expect(doc.provenance.runIds).toEqual([fixture.featureVisRunId, fixture.diverseRunId].sort((a, b) => a - b));
  });

  it('writes the whole layer as CSV, one record per unit, with the starred units marked', async () => {
    const file = await handlers['export.table']({ format: 'csv', query: galleryQuery.parse({ layer: 'conv4' }) });
    const text = Buffer.from(file.base64, 'base64').toString('utf8');
    const lines = text.split('\r\n').filter((l) => l && !l.startsWith('#'));
    expect(lines[0].split(',').slice(0, 7)).toEqual(['unitId', 'modelId', 'layer', 'channel', 'starred', 'tags', 'note']);
    // Records: the header, then one per unit (the note's line break sits inside quotes of one record).
    expect(text.match(/^\d+,gallery-net,conv4,/gm)).toHaveLength(60);
    expect(text).toMatch(/^5,gallery-net,conv4,\d+,true,"texture, ""fine""","two\nlines",/m);
    expect(file.fileName).toBe('gallery-units.csv');
  });
});
