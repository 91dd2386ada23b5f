// Table export: a real shapes run's summary as CSV and JSON (read back with an independent CSV
// parser and compared with the stored summary rows), RFC 4180 quoting of awkward text, the
// provenance every file carries, and the other analyses' tables.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataExportHandlers } from '../../../src/main/services/handlers/data-export';
import { ProjectDb } from '../../../src/main/services/project-db';
import type { ResultRecord, RunSummary } from '../../../src/shared/domain';
import type { Provenance } from '../../../src/shared/figures';
import { decodeFloat32 } from '../../../src/shared/float-codec';
import { runTable, tableCsv, type Table } from '../../../src/shared/tables';
import { tempDir } from '../../helpers/temp';
import { projectContext } from './context';
import { storeShapesRun } from './fixture';

/** RFC 4180 records (CRLF or LF), fields quoted with "" escapes; lines starting with # before the header are comments. */
function parseCsv(text: string): { comments: string[]; records: string[][] } {
  const comments: string[] = [];
  let i = 0;
  while (text[i] === '#') {
    const end = text.indexOf('\n', i);
    comments.push(text.slice(i, end).replace(/\r$/, ''));
    i = end + 1;
  }
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      }
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      record.push(field);
      field = '';
    }
    else if (ch === '\r' && text[i + 1] === '\n') continue;
    else if (ch === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    }
    else field += ch;
  }
  if (field || record.length) {
    record.push(field);
    records.push(record);
  }
  return { comments, records };
}

/** What a CSV field should read back as. */
const expectedField = (v: unknown): string =>
  v === null || v === undefined ? '' : typeof v === 'number' ? (Number.isNaN(v) ? 'NaN' : Number.isFinite(v) ? String(v) : v > 0 ? 'Inf' : '-Inf') : String(v);

const dir = tempDir('artiphys-export-tables-');
let db: ProjectDb;
let ctx: ReturnType<typeof projectContext>;
let handlers: ReturnType<typeof dataExportHandlers>;
let run: RunSummary;
let other: RunSummary;

beforeAll(async () => {
  db = ProjectDb.open(path.join(dir, 'tables.artiphys'), { create: true });
  ctx = projectContext(db);
  handlers = dataExportHandlers(ctx);
  run = await storeShapesRun(db, { translation: false });
  other = await storeShapesRun(db, { translation: false, intensity: 200 });
});
afterAll(() => ctx.close());

describe('export.table of a run', () => {
  it('writes the shapes run per unit as CSV: provenance comments, a header of the table columns, one record per channel of every layer', async () => {
    const out = path.join(dir, 'summary.csv');
    const file = await handlers['export.table']({ format: 'csv', runId: run.id, path: out });
    expect(file).toMatchObject({ path: out, fileName: 'summary.csv', mime: 'text/csv', base64: '' });
    const text = fs.readFileSync(out, 'utf8');
    expect(file.bytes).toBe(Buffer.byteLength(text));
    const { comments, records } = parseCsv(text);
    expect(comments).toEqual([
      expect.stringMatching(/^# Artiphys \S+ export$/),
      `# project: ${db.path}`,
      `# runs: ${run.id}`,
      `# config-hash: ${file.provenance.configHash}`,
      `# created: ${file.provenance.createdAt}`,
    ]);
    expect(records[0].slice(0, 5)).toEqual(['layer', 'channel', 'maxResponse', 'silent', 'apcR']);
    // One record per unit, read back against the stored arrays (not the 2-row per-layer medians).
    const layers = ctx.project.listResults(run.id).filter((r) => r.key.startsWith('layer/'));
    const expected = layers.flatMap((l) => {
      const d = l.data as { layer: string; channels: number; responses: string; apc: { r: string } };
      const responses = decodeFloat32(d.responses);
      const r = decodeFloat32(d.apc.r);
      return Array.from({ length: d.channels }, (_, c) => {
        const max = Math.max(...responses.filter((_, i) => i % d.channels === c));
        return [d.layer, String(c), String(max), String(max <= 0), Number.isFinite(r[c]) ? String(r[c]) : ''];
      });
    });
    expect(expected.length).toBeGreaterThan(2);
    expect(records.slice(1).map((rec) => rec.slice(0, 5))).toEqual(expected);
    expect(new Set(records.slice(1).map((rec) => rec[0]))).toEqual(new Set(['subunits', 'response']));
  });

  it('writes the same table as JSON {provenance, columns, rows}, returned in memory without a path', async () => {
    const file = await handlers['export.table']({ format: 'json', runId: run.id });
    expect(file).toMatchObject({ path: null, mime: 'application/json', fileName: `run-${run.id}-shapes.json` });
    const doc = JSON.parse(Buffer.from(file.base64, 'base64').toString('utf8')) as {
      provenance: Provenance;
      columns: { key: string; label: string }[];
      rows: Record<string, unknown>[];
    };
    expect(doc.provenance).toEqual(file.provenance);
    expect(doc.provenance).toMatchObject({ app: 'Artiphys', project: db.path, runIds: [run.id] });
    const table = runTable('shapes', ctx.project.listResults(run.id));
    expect(doc.columns).toEqual(table.columns.map((key) => ({ key, label: table.labels[key] ?? key })));
    expect(doc.columns.find((c) => c.key === 'apcR')?.label).toBe('APC r');
    expect(doc.rows).toEqual(table.rows);
  });

  it('hashes the runs\' configuration: the same for the same run, different when the settings differ', async () => {
    const a = await handlers['export.table']({ format: 'json', runId: run.id });
    const again = await handlers['export.table']({ format: 'csv', runId: run.id });
    const b = await handlers['export.table']({ format: 'json', runId: other.id });
    expect(a.provenance.configHash).toMatch(/^[0-9a-f]{64}$/);
    expect(again.provenance.configHash).toBe(a.provenance.configHash);
    expect(b.provenance.configHash).not.toBe(a.provenance.configHash);
    expect(b.provenance.runIds).toEqual([other.id]);
  });

  it('refuses an unknown run, a call with both or neither of runId and query, and the project file as destination', async () => {
    await expect(handlers['export.table']({ format: 'csv', runId: 999 })).rejects.toMatchObject({ code: 'not_found', message: expect.stringContaining('999') });
    await expect(handlers['export.table']({ format: 'csv' })).rejects.toMatchObject({ code: 'bad_request' });
    await expect(handlers['export.table']({ format: 'csv', runId: run.id, query: { filters: [] } })).rejects.toMatchObject({ code: 'bad_request' });
    await expect(handlers['export.table']({ format: 'csv', runId: run.id, path: ctx.project.path })).rejects.toMatchObject({ code: 'bad_request', message: expect.stringContaining("open project's own file") });
    expect(ctx.project.info().counts.runs).toBe(2);
  });
});

describe('CSV quoting', () => {
  it('round-trips commas, quotes, line breaks, #, edge spaces, unicode and non-finite numbers', () => {
    const nasty = ['plain', 'a,b', 'say "hi"', 'two\nlines', 'crlf\r\nline', '#hash', ' lead', 'trail ', 'ünïcødé λ*', '', '""', ',', '\n'];
    const table: Table = {
      columns: ['text', 'number', 'flag', 'odd "column", name'],
      labels: {},
      rows: nasty.map((text, i) => ({ text, number: [1.5, -0, 1e-30, NaN, Infinity, -Infinity, null, 42][i % 8], flag: i % 2 === 0, 'odd "column", name': i })),
    };
    const provenance: Provenance = { app: 'Artiphys', appVersion: 't', project: '/p/with\nnewline.artiphys', runIds: [1, 2], configHash: 'x', createdAt: 'now' };
    const { comments, records } = parseCsv(tableCsv(table, provenance));
    expect(comments).toHaveLength(5);
    expect(comments[1]).toBe('# project: /p/with newline.artiphys');
    expect(records[0]).toEqual(table.columns);
    expect(records.slice(1)).toEqual(table.rows.map((row) => table.columns.map((c) => expectedField(row[c]))));
  });
});

describe('tables of the other analyses', () => {
  const record = (key: string, data: Record<string, unknown>): ResultRecord => ({ id: 1, runId: 1, key, data, imageIds: [] });

  it('scale invariance: one row per tested channel with both criteria, its dataset-scan results left out', () => {
    const criteria = (c: number, pass: boolean) => ({ preOfIn: c, preOfZoomedIn: c / 2, postOfIn: 1, postOfPre: 2, ratio: 0.5, criterion1: pass, criterion2: true, scaleInvariant: pass });
    const t = runTable('scale-invariance', [
      record('channel/layer1.0/0', { block: 'layer1.0', channel: 0, layers: { in: 'a', pre: 'b', post: 'c' }, ...criteria(3, true), activations: {} }),
      record('channel/layer1.0/1', { block: 'layer1.0', channel: 1, layers: { in: 'a', pre: 'b', post: 'c' }, ...criteria(4, false), activations: {} }),
      // A silent channel: not judged, its criteria null.
      record('channel/layer1.0/2', {
        block: 'layer1.0',
        channel: 2,
        layers: { in: 'a', pre: 'b', post: 'c' },
        ...criteria(0, false),
        inOfIn: 0,
        silent: true,
        criterion1: null,
        criterion2: null,
        scaleInvariant: null,
      }),
      record('block/layer1.0', { block: 'layer1.0', passing: [0], count: 1 }),
      record('unit/layer1.0/in/0', { block: 'layer1.0', role: 'in', channel: 0 }),
    ]);
    expect(t.rows.map((r) => [r.channel, r.scaleInvariant, r.preOfIn])).toEqual([[0, true, 3], [1, false, 4], [2, null, 0]]);
    expect(t.rows.map((r) => [r.silent, r.criterion1])).toEqual([[null, true], [null, false], [true, null]]);
    expect(t.columns.slice(0, 2)).toEqual(['block', 'channel']);
  });

  it('ablation: one row per scale with top-1 and the mean over the accepted random sets', () => {
    const t = runTable('ablation', [
      record('summary', { block: 'b', layer: 'l', scales: [0, 20], intactTop1: [80, 70], invariantTop1: [60, 40], randomTop1: [[62, 55], [64, 57]], ratioMean: [0.95, 0.71], ratioSe: [0.01, 0.02], invariantChannels: [1, 5, 9] }),
    ]);
    expect(t.rows.map((r) => [r.scale, r.intactTop1, r.invariantTop1, r.randomTop1Mean, r.ratioMean])).toEqual([[0, 80, 60, 63, 0.95], [20, 70, 40, 56, 0.71]]);
    expect(t.rows[0].invariantChannels).toBe(3);
  });

  it('any other run: one row per result with its scalar fields flattened, encoded arrays and lists left out', () => {
    const t = runTable('max-image', [
      record('snapshot/8', { step: 8, activation: 1.25 }),
      record('unit/conv/3', { layer: 'conv', channel: 3, activation: 2, trace: [1, 2], rf: { size: 5 }, responses: 'AACAPwAAAEA=' }),
    ]);
    expect(t.columns).toEqual(['key', 'step', 'activation', 'layer', 'channel', 'rf.size']);
    expect(t.rows[0]).toEqual({ key: 'snapshot/8', step: 8, activation: 1.25, layer: null, channel: null, 'rf.size': null });
    expect(t.rows[1]).toMatchObject({ key: 'unit/conv/3', channel: 3, 'rf.size': 5 });
  });
});
